"""Use cases that read the log: one entry, a search, a desk's daily report, and the
chain's verification. Every read keeps to the caller's communes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.communes.lookup import filter_codes
from beffroi.core.chain import ChainWalk
from beffroi.core.context import Context
from beffroi.core.errors import NotFound, PermissionDenied
from beffroi.core.keyset import Keyset
from beffroi.core.principal import Permission, Principal
from beffroi.db.rows import Derived
from beffroi.energy.days import bounds
from beffroi.opslog import chained, links
from beffroi.opslog.lifecycle import Desk, LinkKind, LogCategory, RecordKind
from beffroi.opslog.models import LogLink, LogRecord
from beffroi.opslog.schemas import LogAmendmentOut, LogDailyReport, LogEntryOut, LogEntryPage

NEWEST = Keyset((LogRecord.seq,), descending=True)  # the list of entries, newest first
DAILY_MAX = 5000  # entries in one desk's day: far above a real day, a bound on the answer


@dataclass(frozen=True, slots=True)
class Search:
    """What a search of the log asks; every condition given must hold."""

    desks: Sequence[Desk] = ()
    categories: Sequence[LogCategory] = ()
    communes: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    asset_id: str | None = None
    alarm_id: int | None = None


async def shown(
    session: AsyncSession, principal: Principal, entries: Sequence[LogRecord]
) -> list[LogEntryOut]:
    """The entries as the API shows them, each with its amendments (oldest first), the
    links to equipment hidden from the caller left out."""
    if not entries:
        return []
    ids = [e.seq for e in entries]
    stmt = select(LogRecord).where(LogRecord.amends.in_(ids)).order_by(LogRecord.seq)
    amendments: dict[int, list[LogAmendmentOut]] = {i: [] for i in ids}
    for row in (await session.execute(stmt)).scalars():
        amendments[row.amends or 0].append(LogAmendmentOut.model_validate(row))
    hidden = await links.hidden_refs(session, principal, (e.links for e in entries))
    out = []
    for e in entries:
        kept = {k: [r for r in refs if r not in hidden[k]] for k, refs in e.links.items()}
        fields: dict[str, Any] = {**kept, "id": e.seq, "commune": e.commune_code}
        out.append(LogEntryOut.model_validate(Derived(e, **fields, amendments=amendments[e.seq])))
    return out


def _entries(principal: Principal) -> Select[LogRecord]:
    return select(LogRecord).where(
        LogRecord.kind == RecordKind.ENTRY.value, principal.scope_clause(LogRecord.commune_code)
    )


async def load_entry(session: AsyncSession, principal: Principal, entry_id: int) -> LogRecord:
    """An entry of the caller's scope; a missing one, one outside the scope and an
    amendment's id all answer alike (404)."""
    row = await session.get(LogRecord, entry_id)
    if row is None or row.kind != RecordKind.ENTRY.value or not principal.sees(row.commune_code):
        raise NotFound(f"entry {entry_id} not found")
    return row


async def get_entry(ctx: Context, entry_id: int) -> LogEntryOut:
    """One entry of the caller's communes, with its amendments."""
    ctx.principal.require(Permission.OPSLOG_READ)
    async with ctx.db.read() as session:
        row = await load_entry(session, ctx.principal, entry_id)
        return (await shown(session, ctx.principal, [row]))[0]


def _linked(kind: LinkKind, ref: str) -> Any:
    return LogRecord.seq.in_(
        select(LogLink.seq).where(LogLink.kind == kind.value, LogLink.ref == ref)
    )


async def search(ctx: Context, query: Search, cursor: str | None, limit: int) -> LogEntryPage:
    """Entries of the caller's communes matching ``query``, newest first, a page at a time.
    ``text`` is looked for in the entry and in its amendments, in any case."""
    ctx.principal.require(Permission.OPSLOG_READ)
    stmt = _entries(ctx.principal)
    if query.desks:
        stmt = stmt.where(LogRecord.desk.in_([d.value for d in query.desks]))
    if query.categories:
        stmt = stmt.where(LogRecord.category.in_([c.value for c in query.categories]))
    if query.since is not None:
        stmt = stmt.where(LogRecord.occurred_at >= query.since)
    if query.until is not None:
        stmt = stmt.where(LogRecord.occurred_at < query.until)
    if query.text:
        amended = select(LogRecord.amends).where(
            LogRecord.text.icontains(query.text, autoescape=True)
        )
        stmt = stmt.where(
            or_(LogRecord.text.icontains(query.text, autoescape=True), LogRecord.seq.in_(amended))
        )
    named = [(LinkKind.ASSET, query.asset_id), (LinkKind.ALARM, query.alarm_id)]
    named = [(kind, ref) for kind, ref in named if ref is not None]
    stmt = stmt.where(*(_linked(kind, str(ref)) for kind, ref in named))
    async with ctx.db.read() as session:
        for kind, ref in named:
            if not await links.visible(session, ctx.principal, kind, ref):
                stmt = stmt.where(false())
        if query.communes:
            codes = await filter_codes(session, ctx.principal, list(query.communes))
            stmt = stmt.where(LogRecord.commune_code.in_(codes))
        rows, next_cursor = await NEWEST.page(session, stmt, cursor=cursor, limit=limit)
        items = await shown(session, ctx.principal, rows)
    return LogEntryPage(items=items, next_cursor=next_cursor)


async def daily(ctx: Context, day: date, desk: Desk) -> LogDailyReport:
    """A desk's local day (the installation's time zone) in the caller's communes: its
    entries by time of occurrence, with their amendments, and the count per category."""
    ctx.principal.require(Permission.OPSLOG_READ)
    zone = ZoneInfo(ctx.settings.timezone)
    start, end = bounds(day, zone)
    stmt = (
        _entries(ctx.principal)
        .where(
            LogRecord.desk == desk.value,
            LogRecord.occurred_at >= start,
            LogRecord.occurred_at < end,
        )
        .order_by(LogRecord.occurred_at, LogRecord.seq)
        .limit(DAILY_MAX)
    )
    async with ctx.db.read() as session:
        rows = list((await session.execute(stmt)).scalars())
        entries = await shown(session, ctx.principal, rows)
    counted = Counter(e.category for e in entries)
    return LogDailyReport(
        day=day,
        desk=desk,
        timezone=ctx.settings.timezone,
        counts={c: counted.get(c, 0) for c in LogCategory},
        entries=entries,
    )


async def verify(ctx: Context) -> ChainWalk:
    """Walk the log's chain (auditors, metropolis-wide: the chain is every commune's)."""
    ctx.principal.require(Permission.AUDIT_READ)
    ctx.principal.require(Permission.OPSLOG_READ)
    if not ctx.principal.all_communes:
        raise PermissionDenied("verifying the whole log needs metropolis-wide scope")
    return await chained.verify(ctx.db)
