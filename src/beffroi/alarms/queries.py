"""What other areas read of the alarm list: plain rows, never the tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms.lifecycle import ACTIVE
from beffroi.alarms.models import Alarm, AlarmHistory
from beffroi.catalogue.visibility import hidden_types, type_clause
from beffroi.core.principal import Principal
from beffroi.db.lists import among, parts


@dataclass(frozen=True, slots=True)
class AlarmFacts:
    """An alarm as other areas see it."""

    id: int
    asset_id: str
    asset_type: str
    commune_code: str
    domain: str
    alarm_type: str
    source: str
    severity: str
    state: str
    parent_id: int | None
    # Whether it is active (the one active alarm of its asset and type).
    active: bool
    occurrences: int
    raised_at: datetime
    acknowledged_at: datetime | None
    cleared_at: datetime | None
    shelved_until: datetime | None


_FACTS = (
    Alarm.id,
    Alarm.asset_id,
    Alarm.asset_type,
    Alarm.commune_code,
    Alarm.domain,
    Alarm.alarm_type,
    Alarm.source,
    Alarm.severity,
    Alarm.state,
    Alarm.parent_id,
    Alarm.active_key.is_not(None),
    Alarm.occurrences,
    Alarm.raised_at,
    Alarm.acknowledged_at,
    Alarm.cleared_at,
    Alarm.shelved_until,
)


def _facts(row: Any) -> AlarmFacts:
    return AlarmFacts(*row)


async def alarms(session: AsyncSession, ids: Iterable[int]) -> dict[int, AlarmFacts]:
    """The alarms among ``ids`` that exist, by id."""
    out: dict[int, AlarmFacts] = {}
    for part in parts(session, sorted(set(ids))):
        rows = await session.execute(select(*_FACTS).where(among(session, Alarm.id, part)))
        out.update({row.id: _facts(row) for row in rows})
    return out


async def ids_of(session: AsyncSession, asset_id: str, alarm_type: str) -> list[int]:
    """Every alarm (active or not) of one asset and type, oldest first."""
    rows = await session.execute(
        select(Alarm.id)
        .where(Alarm.asset_id == asset_id, Alarm.alarm_type == alarm_type)
        .order_by(Alarm.id)
    )
    return list(rows.scalars())


async def in_period(
    session: AsyncSession, scope: Principal, start: datetime, end: datetime
) -> list[AlarmFacts]:
    """The alarms in ``scope`` raised, acknowledged or cleared within ``[start, end)``."""
    period = or_(
        and_(Alarm.raised_at >= start, Alarm.raised_at < end),
        and_(Alarm.acknowledged_at >= start, Alarm.acknowledged_at < end),
        and_(Alarm.cleared_at >= start, Alarm.cleared_at < end),
    )
    rows = await session.execute(
        select(*_FACTS)
        .where(scope.scope_clause(Alarm.commune_code), type_clause(scope, Alarm.asset_type), period)
        .order_by(Alarm.id)
    )
    return [_facts(row) for row in rows]


@dataclass(frozen=True, slots=True)
class Shown:
    """What the map draws of an active alarm: its asset, severity and shelving."""

    id: int
    asset_id: str
    severity: str
    shelved_until: datetime | None


async def active(session: AsyncSession) -> list[Shown]:
    """Every active alarm (acknowledged or not)."""
    rows = await session.execute(
        select(Alarm.id, Alarm.asset_id, Alarm.severity, Alarm.shelved_until).where(
            Alarm.state.in_([s.value for s in ACTIVE])
        )
    )
    return [Shown(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One entry of an alarm's history, as its followers read it."""

    id: int
    alarm_id: int
    ts: datetime
    action: str
    actor: str
    actor_kind: str
    state: str
    detail: dict[str, Any]


_ENTRY = (
    AlarmHistory.id,
    AlarmHistory.alarm_id,
    AlarmHistory.ts,
    AlarmHistory.action,
    AlarmHistory.actor,
    AlarmHistory.actor_kind,
    AlarmHistory.state,
    AlarmHistory.detail,
)


def entry_columns() -> tuple[Any, ...]:
    """The columns of a :class:`HistoryEntry`, in order (for the feed's one query)."""
    return _ENTRY


def alarm_columns() -> tuple[Any, ...]:
    """The columns of an :class:`AlarmFacts`, in order (for the feed's one query)."""
    return _FACTS


async def counts_per_asset(
    session: AsyncSession,
    scope: Principal,
    asset_types: Sequence[str],
    alarm_types: Sequence[str],
    start: datetime,
    end: datetime,
) -> dict[str, int]:
    """How many alarms of ``alarm_types`` each asset of ``asset_types`` in ``scope`` raised
    within ``[start, end)`` (assets without any left out)."""
    rows = await session.execute(
        select(Alarm.asset_id, func.count())
        .where(
            scope.scope_clause(Alarm.commune_code),
            type_clause(scope, Alarm.asset_type),
            Alarm.asset_type.in_(list(asset_types)),
            Alarm.alarm_type.in_(list(alarm_types)),
            Alarm.raised_at >= start,
            Alarm.raised_at < end,
        )
        .group_by(Alarm.asset_id)
    )
    return {row[0]: int(row[1]) for row in rows}


def hidden_ids(principal: Principal) -> Select[Any] | None:
    """A selectable of the ids of the alarms on equipment hidden from ``principal``
    (cameras), for another area's tables that name alarms; ``None`` when nothing is."""
    hidden = hidden_types(principal)
    if not hidden:
        return None
    return select(Alarm.id).where(Alarm.asset_type.in_(sorted(hidden)))
