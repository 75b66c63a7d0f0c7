"""Reading reports: the public's (by ticket, Open311) and the staff's (in their scope).

The public side reads only :class:`Public`: the report's problem, place and public
progress. It never selects the contact or photo tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets.schemas import Point
from beffroi.communes.lookup import filter_codes
from beffroi.core.context import Context
from beffroi.core.errors import NotFound
from beffroi.core.keyset import Keyset
from beffroi.core.principal import Permission
from beffroi.db import Derived
from beffroi.interventions import reporting
from beffroi.interventions.reporting import Progress
from beffroi.reports.lifecycle import PublicStatus, public_of
from beffroi.reports.models import Report, ReportContact, ReportNote, ReportPhoto
from beffroi.reports.schemas import (
    Contact,
    ProgressStep,
    ReportDetail,
    ReportOut,
    ReportPage,
)

NEWEST_FIRST = Keyset((Report.id,), descending=True)


@dataclass(frozen=True, slots=True)
class Note:
    """A public note: its text and time (the author is staff, and stays inside)."""

    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Public:
    """What anyone may read of a report."""

    ticket: str
    service_code: str
    commune: str
    lon: float | None
    lat: float | None
    address_string: str
    description: str
    created_at: datetime
    progress: Progress | None
    notes: tuple[Note, ...]

    @property
    def status(self) -> PublicStatus:
        """Open311's status."""
        return public_of(self.progress.status)[0] if self.progress else PublicStatus.OPEN

    @property
    def status_notes(self) -> str:
        """The public sentence of the work's status, then the latest public note."""
        said = public_of(self.progress.status)[1] if self.progress else "Received"
        return f"{said}. {self.notes[-1].text}" if self.notes else said

    @property
    def updated_at(self) -> datetime:
        """The last time anything public changed."""
        times = [self.created_at, *(n.at for n in self.notes)]
        if self.progress is not None:
            times += [s.at for s in self.progress.steps]
        return max(times)


def steps_of(progress: Progress | None) -> list[ProgressStep]:
    """The public steps of the work, each with its sentence."""
    if progress is None:
        return []
    return [
        ProgressStep(status=s.status, at=s.at, note=public_of(s.status)[1]) for s in progress.steps
    ]


async def _notes(session: AsyncSession, intervention_ids: Sequence[int]) -> dict[int, list[Note]]:
    rows = await session.execute(
        select(ReportNote.intervention_id, ReportNote.text, ReportNote.at)
        .where(ReportNote.intervention_id.in_(sorted(set(intervention_ids))))
        .order_by(ReportNote.id)
    )
    out: dict[int, list[Note]] = {}
    for intervention_id, text, at in rows:
        out.setdefault(intervention_id, []).append(Note(text, at))
    return out


_PUBLIC_COLUMNS = (
    Report.ticket,
    Report.service_code,
    Report.commune_code,
    Report.lon,
    Report.lat,
    Report.address_string,
    Report.description,
    Report.created_at,
    Report.intervention_id,
)


async def public_rows(session: AsyncSession, stmt: Select[Any]) -> list[Public]:
    """The public view of the reports ``stmt`` selects (one statement for their work, one
    for their notes)."""
    rows = (await session.execute(stmt.with_only_columns(*_PUBLIC_COLUMNS))).all()
    ids = [r.intervention_id for r in rows]
    progress = await reporting.public_progress(session, ids)
    notes = await _notes(session, ids) if ids else {}
    return [
        Public(
            r.ticket,
            r.service_code,
            r.commune_code,
            r.lon,
            r.lat,
            r.address_string,
            r.description,
            r.created_at,
            progress.get(r.intervention_id),
            tuple(notes.get(r.intervention_id, ())),
        )
        for r in rows
    ]


async def by_ticket(ctx: Context, ticket: str) -> Public:
    """A report by its ticket, or :class:`NotFound`."""
    async with ctx.db.read() as session:
        found = await public_rows(session, select(Report).where(Report.ticket == ticket))
    if not found:
        raise NotFound(f"no service request {ticket[:40]!r}")
    return found[0]


# --- staff -----------------------------------------------------------------------------


def _out(row: Report, progress: Progress | None, notes: Sequence[Note]) -> ReportOut:
    public = Public(
        row.ticket,
        row.service_code,
        row.commune_code,
        row.lon,
        row.lat,
        row.address_string,
        row.description,
        row.created_at,
        progress,
        tuple(notes),
    )
    located = row.lon is not None and row.lat is not None
    return ReportOut.model_validate(
        Derived(
            row,
            commune=row.commune_code,
            location=Point(coordinates=(row.lon, row.lat)) if located else None,
            status=public.status,
            status_notes=public.status_notes,
        )
    )


async def load(session: AsyncSession, ctx: Context, report_id: int) -> Report:
    """A report in the caller's scope, or :class:`NotFound` (existence hidden)."""
    ctx.principal.require(Permission.REPORT_READ)
    row = await session.get(Report, report_id)
    if row is None or not ctx.principal.sees(row.commune_code):
        raise NotFound(f"report {report_id} not found")
    return row


async def list_reports(
    ctx: Context, communes: Sequence[str], cursor: str | None, limit: int
) -> ReportPage:
    """Reports in the caller's scope, newest first, optionally of some communes."""
    ctx.principal.require(Permission.REPORT_READ)
    async with ctx.db.read() as session:
        codes = await filter_codes(session, ctx.principal, communes)
        stmt = select(Report).where(ctx.principal.scope_clause(Report.commune_code))
        if codes:
            stmt = stmt.where(Report.commune_code.in_(codes))
        rows, next_cursor = await NEWEST_FIRST.page(session, stmt, cursor=cursor, limit=limit)
        ids = [r.intervention_id for r in rows]
        progress = await reporting.public_progress(session, ids)
        notes = await _notes(session, ids) if ids else {}
    items = [
        _out(r, progress.get(r.intervention_id), notes.get(r.intervention_id, [])) for r in rows
    ]
    return ReportPage(items=items, next_cursor=next_cursor)


async def get_report(ctx: Context, report_id: int) -> ReportDetail:
    """A report with its caller's contact (while kept) and its public progress."""
    async with ctx.db.read() as session:
        row = await load(session, ctx, report_id)
        progress = (await reporting.public_progress(session, [row.intervention_id])).get(
            row.intervention_id
        )
        notes = (await _notes(session, [row.intervention_id])).get(row.intervention_id, [])
        contact = await session.get(ReportContact, row.id)
    out = _out(row, progress, notes)
    return ReportDetail(
        **out.model_dump(),
        contact=Contact.model_validate(contact) if contact is not None else None,
        progress=steps_of(progress),
    )


async def get_photo(ctx: Context, report_id: int) -> tuple[str, bytes]:
    """The report's photo (content type, bytes), for staff in scope."""
    async with ctx.db.read() as session:
        row = await load(session, ctx, report_id)
        photo = await session.get(ReportPhoto, row.id)
    if photo is None:
        raise NotFound(f"report {report_id} has no photo")
    return photo.content_type, photo.data
