"""Searching the register (``video:register``, the auditors') and exporting it as CSV and
PDF for the prefecture or the CNIL: the same entries in both, in the order of the chain."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fpdf import FPDF
from sqlalchemy import Select, select

from beffroi.core.chain import ChainWalk
from beffroi.core.context import Context
from beffroi.core.errors import PermissionDenied
from beffroi.core.keyset import Keyset
from beffroi.core.principal import Permission
from beffroi.video import register
from beffroi.video.lifecycle import EntryKind
from beffroi.video.models import RegisterEntry

NEWEST = Keyset((RegisterEntry.seq,), descending=True)
EXPORT_MAX = 100_000
COLUMNS = (
    "seq",
    "ts",
    "kind",
    "camera_id",
    "commune",
    "agent",
    "outcome",
    "reason",
    "session_id",
    "details",
)


@dataclass(frozen=True, slots=True)
class RegisterQuery:
    """Filters of a register search; ``before``: the sequence the page ends below."""

    camera_id: str | None = None
    agent: str | None = None
    kinds: tuple[EntryKind, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None
    limit: int = 100


def _statement(ctx: Context, query: RegisterQuery) -> Select[RegisterEntry]:
    ctx.principal.require(Permission.VIDEO_REGISTER)
    stmt = select(RegisterEntry).where(ctx.principal.scope_clause(RegisterEntry.commune_code))
    if query.camera_id:
        stmt = stmt.where(RegisterEntry.camera_id == query.camera_id)
    if query.agent:
        stmt = stmt.where(RegisterEntry.agent == query.agent)
    if query.kinds:
        stmt = stmt.where(RegisterEntry.kind.in_([k.value for k in query.kinds]))
    if query.since:
        stmt = stmt.where(RegisterEntry.ts >= query.since)
    if query.until:
        stmt = stmt.where(RegisterEntry.ts < query.until)
    return stmt


async def search(ctx: Context, query: RegisterQuery) -> tuple[list[RegisterEntry], int | None]:
    """Entries in scope matching ``query``, newest first, and the next page's ``before``.
    Entries of no commune (a refused act on no camera) only to metropolis-wide auditors."""
    stmt = NEWEST.apply(
        _statement(ctx, query), (query.before,) if query.before else None, query.limit
    )
    async with ctx.db.read() as session:
        rows = (await session.execute(stmt)).scalars().all()
    page, last = NEWEST.cut(rows, query.limit)
    return page, None if last is None else last[0]


async def export_rows(ctx: Context, query: RegisterQuery) -> list[RegisterEntry]:
    """Every entry matching ``query`` (up to 100,000), oldest first, for an export."""
    stmt = _statement(ctx, query).order_by(RegisterEntry.seq).limit(EXPORT_MAX)
    async with ctx.db.read() as session:
        return list((await session.execute(stmt)).scalars())


def _cells(entry: RegisterEntry) -> list[str]:
    details = json.dumps(entry.details, ensure_ascii=False, sort_keys=True)
    return [
        str(entry.seq),
        entry.ts.isoformat(timespec="seconds"),
        entry.kind,
        entry.camera_id or "",
        entry.commune_code or "",
        entry.agent,
        entry.outcome,
        entry.reason or "",
        "" if entry.session_id is None else str(entry.session_id),
        details,
    ]


def to_csv(entries: Sequence[RegisterEntry]) -> str:
    """The entries as CSV, one row each, with a header."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for entry in entries:
        writer.writerow(_cells(entry))
    return out.getvalue()


def _latin(text: str) -> str:
    # The PDF's built-in fonts are Latin-1 (French included); other characters show as "?"
    # rather than fail the export. The CSV keeps every character.
    return text.encode("latin-1", "replace").decode("latin-1")


def to_pdf(entries: Sequence[RegisterEntry], title: str) -> bytes:
    """The entries as a landscape A4 PDF table, one row per entry, with a count."""
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, _latin(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.cell(0, 6, f"{len(entries)} entries", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=7)
    widths = (12, 34, 22, 26, 18, 30, 16, 60, 14, 45)
    with pdf.table(col_widths=widths, text_align="LEFT", first_row_as_headings=True) as table:
        table.row(list(COLUMNS))
        for entry in entries:
            cells = _cells(entry)
            cells[-1] = cells[-1][:300]
            table.row([_latin(c) for c in cells])
    return bytes(pdf.output())


async def verify_register(ctx: Context) -> ChainWalk:
    """Verify the whole register (a metropolis-wide auditor: the chain is every commune's)."""
    ctx.principal.require(Permission.VIDEO_REGISTER)
    if not ctx.principal.all_communes:
        raise PermissionDenied("verifying the whole register needs metropolis-wide scope")
    return await register.verify(ctx.db)
