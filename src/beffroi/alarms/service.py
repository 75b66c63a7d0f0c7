"""Use cases of the alarm list: read, acknowledge, comment, assign, shelve, clear.

Alarms are raised and cleared by their sources through :mod:`beffroi.alarms.raising`;
here are the decisions of people. Each is checked (permission, commune scope, the
operator's domain, the alarm's state), written with its history line and its audit entry
in one transaction, and announced on the event hub after the commit. A refused decision
is audited too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.accounts import queries as account_queries
from beffroi.alarms import raising
from beffroi.alarms.history import Entry, write
from beffroi.alarms.lifecycle import ACTIVE, OPEN, Action, AlarmSource, AlarmState
from beffroi.alarms.models import Alarm, AlarmHistory
from beffroi.alarms.schemas import AlarmDetail, AlarmOut, AlarmPage, HistoryOut, Summary
from beffroi.catalogue import Domain, Severity
from beffroi.communes.lookup import filter_codes
from beffroi.core import audit
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from beffroi.core.keyset import Keyset
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow

TARGET = "alarm"


def to_out(row: Alarm, children: int = 0, now: datetime | None = None) -> AlarmOut:
    """The API shape of an alarm row."""
    now = now or utcnow()
    return AlarmOut(
        id=row.id,
        asset_id=row.asset_id,
        asset_type=row.asset_type,
        commune=row.commune_code,
        domain=row.domain,
        alarm_type=row.alarm_type,
        source=row.source,
        severity=Severity(row.severity),
        state=AlarmState(row.state),
        raised_at=row.raised_at,
        last_seen_at=row.last_seen_at,
        occurrences=row.occurrences,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        cleared_at=row.cleared_at,
        cleared_by=row.cleared_by,
        clear_reason=row.clear_reason,
        assigned_to=row.assigned_to,
        shelved=row.shelved_until is not None and row.shelved_until > now,
        shelved_until=row.shelved_until,
        shelved_by=row.shelved_by,
        shelve_reason=row.shelve_reason,
        parent_id=row.parent_id,
        children=children,
        rule_id=row.rule_id,
        detail=row.detail or {},
    )


@dataclass(frozen=True, slots=True)
class AlarmFilter:
    """What the alarm list is narrowed to. Empty means no narrowing, except that by
    default only open alarms, top-level ones (not grouped under a root cause) and
    unshelved ones are listed: the operators' working list."""

    states: Sequence[AlarmState] = tuple(OPEN)
    severities: Sequence[Severity] = ()
    commune: str | None = None
    asset_id: str | None = None
    alarm_type: str | None = None
    domain: Domain | None = None
    source: AlarmSource | None = None
    parent_id: int | None = None
    assigned_to: str | None = None
    top_level: bool = True
    include_shelved: bool = False

    def clauses(self, principal: Principal, now: datetime) -> list[ColumnElement[bool]]:
        """SQL conditions of this filter within the principal's scope."""
        out = [principal.scope_clause(Alarm.commune_code)]
        if self.states:
            out.append(Alarm.state.in_(sorted(s.value for s in self.states)))
        if self.severities:
            out.append(Alarm.severity.in_(sorted(s.value for s in self.severities)))
        for column, value in (
            (Alarm.commune_code, self.commune),
            (Alarm.asset_id, self.asset_id),
            (Alarm.alarm_type, self.alarm_type),
            (Alarm.domain, self.domain),
            (Alarm.source, self.source),
            (Alarm.assigned_to, self.assigned_to),
        ):
            if value is not None:
                out.append(column == value)
        if self.parent_id is not None:
            out.append(Alarm.parent_id == self.parent_id)
        elif self.top_level:
            out.append(Alarm.parent_id.is_(None))
        if not self.include_shelved:
            out.append(or_(Alarm.shelved_until.is_(None), Alarm.shelved_until <= now))
        return out


async def _children(session: AsyncSession, ids: Sequence[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Alarm.parent_id, func.count())
        .where(Alarm.parent_id.in_(ids))
        .group_by(Alarm.parent_id)
    )
    return {row[0]: row[1] for row in rows if row[0] is not None}


NEWEST = Keyset((Alarm.id,), descending=True)  # ids in the order alarms reached the hub


async def list_alarms(
    ctx: Context, query: AlarmFilter, *, cursor: str | None = None, limit: int = 100
) -> AlarmPage:
    """Alarms in scope, newest first (in the order they reached the hub)."""
    ctx.principal.require(Permission.ALARM_READ)
    now = utcnow()
    async with ctx.db.read() as session:
        # A commune by code or name; one that does not exist (or is not the caller's) is
        # refused, never read as an empty list.
        codes = await filter_codes(session, ctx.principal, [query.commune] if query.commune else [])
        query = dataclasses.replace(query, commune=codes[0] if codes else None)
        stmt = select(Alarm).where(*query.clauses(ctx.principal, now))
        page, next_cursor = await NEWEST.page(session, stmt, cursor=cursor, limit=limit)
        children = await _children(session, [r.id for r in page])
    return AlarmPage(
        items=[to_out(r, children.get(r.id, 0), now) for r in page], next_cursor=next_cursor
    )


async def summary(ctx: Context) -> Summary:
    """Counts of open alarms in scope (grouped ones included), by severity and state."""
    ctx.principal.require(Permission.ALARM_READ)
    now = utcnow()
    scope = [ctx.principal.scope_clause(Alarm.commune_code), Alarm.state.in_(sorted(OPEN))]
    shelved = and_(Alarm.shelved_until.is_not(None), Alarm.shelved_until > now)
    async with ctx.db.read() as session:
        rows = (
            await session.execute(
                select(Alarm.severity, Alarm.state, shelved.label("shelved"), func.count())
                .where(*scope)
                .group_by(Alarm.severity, Alarm.state, "shelved")
            )
        ).all()
    by_severity: dict[str, int] = {s.value: 0 for s in Severity}
    by_state: dict[str, int] = {s.value: 0 for s in OPEN}
    hidden = 0
    for severity, state, is_shelved, count in rows:
        if is_shelved:
            hidden += count
            continue
        by_severity[severity] += count
        by_state[state] += count
    unacknowledged = by_state[AlarmState.ACTIVE_UNACKNOWLEDGED] + by_state.get(
        AlarmState.CLEARED_UNACKNOWLEDGED, 0
    )
    return Summary(
        by_severity=by_severity, by_state=by_state, unacknowledged=unacknowledged, shelved=hidden
    )


async def _load(session: AsyncSession, ctx: Context, alarm_id: int, *, lock: bool) -> Alarm:
    stmt = select(Alarm).where(Alarm.id == alarm_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None or not ctx.principal.sees(row.commune_code):
        raise NotFound(f"alarm {alarm_id} not found")
    return row


async def get_alarm(ctx: Context, alarm_id: int) -> AlarmDetail:
    """One alarm with its whole history, oldest first."""
    ctx.principal.require(Permission.ALARM_READ)
    async with ctx.db.read() as session:
        row = await _load(session, ctx, alarm_id, lock=False)
        children = await _children(session, [row.id])
        lines = (
            await session.execute(
                select(AlarmHistory)
                .where(AlarmHistory.alarm_id == alarm_id)
                .order_by(AlarmHistory.id)
            )
        ).scalars()
        history = [
            HistoryOut(
                ts=h.ts,
                action=h.action,
                actor=h.actor,
                actor_kind=h.actor_kind,
                state=AlarmState(h.state),
                detail=h.detail or {},
            )
            for h in lines
        ]
    out = to_out(row, children.get(row.id, 0))
    return AlarmDetail(**out.model_dump(), history=history)


def _require_handler(ctx: Context, row: Alarm) -> None:
    principal = ctx.principal
    principal.require(Permission.ALARM_HANDLE)
    principal.require_commune(row.commune_code)
    if row.domain and not principal.in_domain(Domain(row.domain)):
        raise PermissionDenied(f"{principal.name} does not work in the {row.domain} domain")


def _conflict(row: Alarm, action: str, why: str) -> Conflict:
    return Conflict(f"cannot {action} alarm {row.id}: {why}", current_state=row.state)


Decide = Callable[[AsyncSession, Alarm, datetime], Awaitable[list[Entry]]]


async def _decide(
    ctx: Context,
    alarm_id: int,
    action: str,
    decide: Decide,
    *,
    reason: str | None = None,
) -> AlarmOut:
    """Load and lock the alarm, check the right to handle it, apply ``decide`` (which
    returns history entries or raises), then audit and write in one transaction."""

    async def run() -> AlarmOut:
        now = utcnow()
        async with ctx.db.write() as session:
            row = await _load(session, ctx, alarm_id, lock=True)
            _require_handler(ctx, row)
            before = row.state
            entries = await decide(session, row, now)
            row.updated_at = now
            await audit.record(
                session,
                ctx.principal,
                f"alarm.{action}",
                target_type=TARGET,
                target_id=str(row.id),
                commune=row.commune_code,
                reason=reason,
                details={"from": before, "to": row.state, "alarm_type": row.alarm_type},
            )
            events = await write(session, entries)
            children = await _children(session, [row.id])
            out = to_out(row, children.get(row.id, 0), now)
        ctx.runtime.events.publish_many(events)
        return out

    return await audit.refused(
        ctx, f"alarm.{action}", run, target_type=TARGET, target_id=str(alarm_id)
    )


def _entry(ctx: Context, row: Alarm, action: Action, now: datetime, **detail: object) -> Entry:
    return Entry(
        row,
        action,
        now,
        ctx.principal.name,
        ctx.principal.kind.value,
        {k: v for k, v in detail.items() if v is not None},
    )


async def acknowledge(
    ctx: Context, alarm_id: int, text: str | None = None, *, with_children: bool = True
) -> AlarmOut:
    """Acknowledge an alarm (and, for a root cause, the alarms grouped under it)."""

    async def decide(session: AsyncSession, row: Alarm, now: datetime) -> list[Entry]:
        if AlarmState(row.state).acknowledged:
            raise _conflict(row, "acknowledge", f"it is already {row.state}")
        entries = [_ack(ctx, row, now, text)]
        if with_children:
            children = await session.execute(
                select(Alarm)
                .where(
                    Alarm.parent_id == row.id,
                    Alarm.state.in_(
                        [AlarmState.ACTIVE_UNACKNOWLEDGED, AlarmState.CLEARED_UNACKNOWLEDGED]
                    ),
                )
                .order_by(Alarm.id)
                .with_for_update()
            )
            for child in children.scalars():
                entries.append(_ack(ctx, child, now, None, root=row.id))
        entries += await _finish(session, row, now)
        return entries

    return await _decide(ctx, alarm_id, "acknowledge", decide, reason=text)


def _ack(
    ctx: Context, row: Alarm, now: datetime, text: str | None, root: int | None = None
) -> Entry:
    row.state = AlarmState(row.state).acknowledge().value
    row.acknowledged_at = now
    row.acknowledged_by = ctx.principal.name
    row.updated_at = now
    return _entry(ctx, row, Action.ACKNOWLEDGED, now, text=text, with_root=root)


async def _finish(session: AsyncSession, row: Alarm, now: datetime) -> list[Entry]:
    """A root cause that is cleared and acknowledged lets go of its children."""
    if row.state != AlarmState.CLEARED_ACKNOWLEDGED:
        return []
    await session.flush()
    return await raising.ungroup(session, [row.id], now)


async def comment(ctx: Context, alarm_id: int, text: str) -> AlarmOut:
    """Add a comment to an alarm's history (any state)."""

    async def decide(session: AsyncSession, row: Alarm, now: datetime) -> list[Entry]:
        return [_entry(ctx, row, Action.COMMENTED, now, text=text)]

    return await _decide(ctx, alarm_id, "comment", decide)


async def assign(ctx: Context, alarm_id: int, user: str | None) -> AlarmOut:
    """Give an alarm to a person (who must be active and see its commune), or take it
    back (``None``)."""

    async def decide(session: AsyncSession, row: Alarm, now: datetime) -> list[Entry]:
        if row.state == AlarmState.CLEARED_ACKNOWLEDGED:
            raise _conflict(row, "assign", "it is cleared and acknowledged")
        if user is not None:
            person = await account_queries.person_named(session, user)
            works_there = person is not None and person.works_in(row.commune_code)
            # One answer for a missing person and one elsewhere, so names reveal nothing.
            if person is None or person.disabled or not works_there:
                raise InvalidInput(
                    FieldError("user", f"no active user {user!r} working in {row.commune_code!r}")
                )
        if row.assigned_to == user:
            raise _conflict(row, "assign", f"it is already assigned to {user!r}")
        before = row.assigned_to
        row.assigned_to = user
        return [_entry(ctx, row, Action.ASSIGNED, now, to=user, previous=before)]

    return await _decide(ctx, alarm_id, "assign", decide)


async def shelve(ctx: Context, alarm_id: int, minutes: int, reason: str) -> AlarmOut:
    """Hide an active alarm from the list for ``minutes``; it comes back by itself."""

    async def decide(session: AsyncSession, row: Alarm, now: datetime) -> list[Entry]:
        if AlarmState(row.state) not in ACTIVE:
            raise _conflict(row, "shelve", f"it is {row.state}")
        row.shelved_until = now + timedelta(minutes=minutes)
        row.shelved_by = ctx.principal.name
        row.shelve_reason = reason
        until = row.shelved_until.isoformat()
        return [_entry(ctx, row, Action.SHELVED, now, until=until, reason=reason)]

    return await _decide(ctx, alarm_id, "shelve", decide, reason=reason)


async def unshelve(ctx: Context, alarm_id: int) -> AlarmOut:
    """Put a shelved alarm back on the list before its time."""

    async def decide(session: AsyncSession, row: Alarm, now: datetime) -> list[Entry]:
        if row.shelved_until is None or row.shelved_until <= now:
            raise _conflict(row, "unshelve", "it is not shelved")
        row.shelved_until = None
        return [_entry(ctx, row, Action.UNSHELVED, now)]

    return await _decide(ctx, alarm_id, "unshelve", decide)


async def clear(ctx: Context, alarm_id: int, reason: str) -> AlarmOut:
    """Clear an active alarm by hand, with a reason (the device will raise it again if
    the fault is still there)."""

    async def decide(session: AsyncSession, row: Alarm, now: datetime) -> list[Entry]:
        if AlarmState(row.state) not in ACTIVE:
            raise _conflict(row, "clear", f"it is already {row.state}")
        entries = [
            raising.clear_row(row, now, ctx.principal.name, ctx.principal.kind.value, reason, now)
        ]
        return entries + await _finish(session, row, now)

    return await _decide(ctx, alarm_id, "clear", decide, reason=reason)
