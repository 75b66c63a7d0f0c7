"""Reading and writing ``rule_states`` set-based: a few statements per batch.

Several gateway processes evaluate the same rules (MQTT shared subscriptions spread one
device's messages over them), so the state lives in the database, and a write never
replaces a state left by a newer reading (``last_ts``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnCollection, ColumnElement, Table, and_, bindparam, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms.lifecycle import AlarmSource
from beffroi.alarms.signals import AlarmSignal
from beffroi.catalogue import Severity
from beffroi.db import Base
from beffroi.db.upsert import upsert
from beffroi.rules.conditions import State
from beffroi.rules.models import MonitoringRule, RuleState

CHUNK = 900
Pair = tuple[int, str]
_COLUMNS = (
    RuleState.rule_id,
    RuleState.asset_id,
    RuleState.since,
    RuleState.last_value,
    RuleState.last_ts,
    RuleState.active,
)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


async def load(session: AsyncSession, pairs: Iterable[Pair]) -> dict[Pair, State]:
    """The states of these (rule, asset) pairs that exist."""
    wanted = set(pairs)
    rules = sorted({r for r, _ in wanted})
    assets = sorted({a for _, a in wanted})
    out: dict[Pair, State] = {}
    for part in _chunks(assets):
        # Columns, not entities: the batch's session must not keep stale state objects.
        rows = await session.execute(
            select(*_COLUMNS).where(RuleState.rule_id.in_(rules), RuleState.asset_id.in_(part))
        )
        for row in rows:
            pair = (row.rule_id, row.asset_id)
            if pair in wanted:
                out[pair] = State(row.since, row.last_value, row.last_ts, row.active)
    return out


def _not_older(table: Table, new: ColumnCollection[str, Any]) -> ColumnElement[bool]:
    """A state is replaced only by one of a reading as new or newer (or without time)."""
    return or_(
        table.c.last_ts.is_(None),
        new.last_ts.is_(None),
        table.c.last_ts <= new.last_ts,
    )


async def save(
    session: AsyncSession, changed: dict[Pair, State], gone: dict[Pair, datetime | None]
) -> None:
    """Write changed states and delete forgotten ones (``gone`` maps a pair to the time
    of the reading that ended it), in sorted order so concurrent writers queue up
    rather than deadlock."""
    table = Base.metadata.tables["rule_states"]
    if changed:
        rows = [
            {
                "rule_id": rule_id,
                "asset_id": asset_id,
                "since": s.since,
                "last_value": s.last_value,
                "last_ts": s.last_ts,
                "active": s.active,
            }
            for (rule_id, asset_id), s in sorted(changed.items())
        ]
        for part in _chunks(rows):
            await upsert(
                session,
                RuleState,
                part,
                keys=["rule_id", "asset_id"],
                update=["since", "last_value", "last_ts", "active"],
                where=_not_older,
            )
    if gone:
        stmt_delete = delete(table).where(
            table.c.rule_id == bindparam("b_rule"),
            table.c.asset_id == bindparam("b_asset"),
            or_(
                bindparam("b_ts", type_=RuleState.last_ts.type).is_(None),
                table.c.last_ts.is_(None),
                table.c.last_ts <= bindparam("b_ts", type_=RuleState.last_ts.type),
            ),
        )
        params = [{"b_rule": r, "b_asset": a, "b_ts": ts} for (r, a), ts in sorted(gone.items())]
        for part in _chunks(params):
            await session.execute(stmt_delete, list(part))


async def reset(
    session: AsyncSession, rule: MonitoringRule, now: datetime, reason: str
) -> list[AlarmSignal]:
    """Forget every state of ``rule``; returns the signals clearing the alarms it holds
    active (the rule is being changed, disabled or deleted: nothing would clear them)."""
    rows = await session.execute(
        delete(RuleState)
        .where(RuleState.rule_id == rule.id)
        .returning(RuleState.asset_id, RuleState.active, RuleState.since, RuleState.last_ts)
    )
    return [
        AlarmSignal(
            asset_id,
            rule.alarm_type,
            False,
            # Never before the raising (a device clock a little ahead raised it "later").
            max(t for t in (now, since, last_ts) if t is not None),
            AlarmSource.RULE,
            Severity(rule.severity),
            {"reason": reason},
            rule.id,
        )
        for asset_id, active, since, last_ts in sorted(rows.all(), key=lambda r: r[0])
        if active
    ]


async def active_assets(session: AsyncSession, rule_id: int) -> dict[str, State]:
    """The assets on which ``rule_id`` holds an alarm active."""
    rows = await session.execute(
        select(*_COLUMNS).where(and_(RuleState.rule_id == rule_id, RuleState.active.is_(True)))
    )
    return {r.asset_id: State(r.since, r.last_value, r.last_ts, r.active) for r in rows}


async def of_rule(session: AsyncSession, rule_id: int) -> dict[str, State]:
    """Every state ``rule_id`` keeps, by asset: one statement, for the jobs that judge a
    rule on all its assets at once."""
    rows = await session.execute(select(*_COLUMNS).where(RuleState.rule_id == rule_id))
    return {r.asset_id: State(r.since, r.last_value, r.last_ts, r.active) for r in rows}
