"""Reading the alarm list: pages of it, its counts, one alarm with its history.

People's decisions on alarms are :mod:`.decisions`; raising and clearing by their
sources, :mod:`.raising`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms.lifecycle import OPEN, AlarmSource, AlarmState
from beffroi.alarms.models import Alarm, AlarmHistory
from beffroi.alarms.schemas import AlarmDetail, AlarmOut, AlarmPage, Summary
from beffroi.catalogue import Domain, Severity
from beffroi.catalogue.visibility import in_view, type_clause
from beffroi.communes.lookup import filter_codes
from beffroi.core.context import Context
from beffroi.core.errors import NotFound
from beffroi.core.keyset import Keyset
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow
from beffroi.db import Derived


def _values(row: Alarm, children: int, now: datetime | None, **more: Any) -> Derived:
    """The row with what it does not hold: how many alarms are grouped under it, and
    whether it is shelved at ``now``."""
    shelved = row.shelved_until is not None and row.shelved_until > (now or utcnow())
    return Derived(row, children=children, shelved=shelved, **more)


def to_out(row: Alarm, children: int = 0, now: datetime | None = None) -> AlarmOut:
    """The API shape of an alarm row."""
    return AlarmOut.model_validate(_values(row, children, now))


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
        out = [
            principal.scope_clause(Alarm.commune_code),
            type_clause(principal, Alarm.asset_type),
        ]
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


async def children_counts(session: AsyncSession, ids: Sequence[int]) -> dict[int, int]:
    """How many alarms are grouped under each of these: id → count (none: absent)."""
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
        children = await children_counts(session, [r.id for r in page])
    return AlarmPage(
        items=[to_out(r, children.get(r.id, 0), now) for r in page], next_cursor=next_cursor
    )


async def summary(ctx: Context) -> Summary:
    """Counts of open alarms in scope (grouped ones included), by severity and state."""
    ctx.principal.require(Permission.ALARM_READ)
    now = utcnow()
    scope = [
        ctx.principal.scope_clause(Alarm.commune_code),
        type_clause(ctx.principal, Alarm.asset_type),
        Alarm.state.in_(sorted(OPEN)),
    ]
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


async def load(session: AsyncSession, ctx: Context, alarm_id: int, *, lock: bool) -> Alarm:
    """An alarm the caller sees (its commune in their scope), else not found."""
    stmt = select(Alarm).where(Alarm.id == alarm_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None or not in_view(ctx.principal, row.commune_code, row.asset_type):
        raise NotFound(f"alarm {alarm_id} not found")
    return row


async def get_alarm(ctx: Context, alarm_id: int) -> AlarmDetail:
    """One alarm with its whole history, oldest first."""
    ctx.principal.require(Permission.ALARM_READ)
    async with ctx.db.read() as session:
        row = await load(session, ctx, alarm_id, lock=False)
        children = await children_counts(session, [row.id])
        history = (
            await session.execute(
                select(AlarmHistory)
                .where(AlarmHistory.alarm_id == alarm_id)
                .order_by(AlarmHistory.id)
            )
        ).scalars()
        return AlarmDetail.model_validate(
            _values(row, children.get(row.id, 0), None, history=history.all())
        )
