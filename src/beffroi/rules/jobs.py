"""Periodic work of the rules area: "no data for N minutes" is a silence, which no
message can reveal, so it is looked for on a clock rather than in the ingest path; and a
light drifting from its program, whose expected level moves with the clock.

Scheduler wiring: every minute or so, ``events = await check_missing_data(db)`` and
publish the events; ``check_drift(db, expected)`` likewise, ``expected`` being what the
lighting area offers (:class:`ExpectedLevels`): the rules area knows no programs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms import raising
from beffroi.alarms.lifecycle import AlarmSource
from beffroi.alarms.signals import AlarmSignal
from beffroi.assets import queries as asset_queries
from beffroi.assets.lifecycle import AssetStatus
from beffroi.catalogue import Severity
from beffroi.core.events import DomainEvent
from beffroi.core.time import utcnow
from beffroi.db import Database
from beffroi.rules import disabling, states
from beffroi.rules.conditions import (
    LightingDrift,
    NoData,
    Reading,
    RuleError,
    RuleKind,
    State,
    build,
)
from beffroi.rules.engine import describe
from beffroi.rules.models import MonitoringRule
from beffroi.telemetry import queries as telemetry_queries

log = structlog.get_logger(__name__)


async def _stale(
    session: AsyncSession, rule: MonitoringRule, condition: NoData, now: datetime
) -> dict[str, datetime | None]:
    """Assets in service in the rule's scope whose newest reading of the key (or any
    reading) is older than the limit; an asset that never reported counts from its
    creation. Maps each to its last reading's time."""
    cutoff = now - timedelta(minutes=condition.minutes)

    def watched(created_before: datetime | None = None) -> Select[Any]:
        return asset_queries.id_query(
            types=[rule.asset_type],
            statuses=[AssetStatus.IN_SERVICE.value],
            communes=rule.communes or (),
            created_before=created_before,
        )

    stale: dict[str, datetime | None] = dict(
        await telemetry_queries.quiet_since(session, watched(), condition.key, cutoff)
    )
    old_enough = watched(cutoff)
    for asset_id in await telemetry_queries.never_heard(session, old_enough, condition.key):
        stale[asset_id] = None
    return stale


def _signal(
    rule: MonitoringRule, asset_id: str, up: bool, now: datetime, detail: dict[str, Any]
) -> AlarmSignal:
    return AlarmSignal(
        asset_id,
        rule.alarm_type,
        up,
        now,
        AlarmSource.RULE,
        Severity(rule.severity),
        {"rule": rule.key, "kind": rule.kind, **detail},
        rule.id,
    )


async def missing_data(
    session: AsyncSession, now: datetime
) -> tuple[list[AlarmSignal], list[tuple[int, str]]]:
    """Raise the silences of every enabled ``no_data`` rule not raised yet, and clear
    those that ended without the ingest path noticing. Returns the signals and the rules
    that could not be evaluated."""
    rules = await session.execute(
        select(MonitoringRule)
        .where(MonitoringRule.enabled.is_(True), MonitoringRule.kind == RuleKind.NO_DATA.value)
        .order_by(MonitoringRule.id)
    )
    signals: list[AlarmSignal] = []
    failed: list[tuple[int, str]] = []
    for rule in rules.scalars():
        try:
            condition = build(rule.kind, rule.params, None)
        except RuleError as exc:
            failed.append((rule.id, describe(exc)))
            continue
        assert isinstance(condition, NoData)
        stale = await _stale(session, rule, condition, now)
        active = await states.active_assets(session, rule.id)
        raised = {a: t for a, t in stale.items() if a not in active}
        ended = sorted(a for a in active if a not in stale)
        for asset_id, last in sorted(raised.items()):
            detail = {"key": condition.key, "minutes": condition.minutes}
            detail["last_ts"] = last.isoformat() if last else None
            signals.append(_signal(rule, asset_id, True, now, detail))
        signals += [_signal(rule, a, False, now, {"key": condition.key}) for a in ended]
        await states.save(
            session,
            {(rule.id, a): State(now, None, t, True) for a, t in raised.items()},
            {(rule.id, a): None for a in ended},
        )
    return signals, failed


async def check_missing_data(db: Database, now: datetime | None = None) -> list[DomainEvent]:
    """One run of the job: silences raised and cleared in one transaction, rules that
    failed disabled in another. Returns the hub events."""
    now = now or utcnow()
    async with db.write() as session:
        signals, failed = await missing_data(session, now)
        events = await raising.apply(session, signals, now)
    if failed:
        events += await disabling.disable_after_error(db, failed, now)
    return events


class ExpectedLevels(Protocol):
    """The level each light is asked for at ``now`` (``None``: unknown), read in the
    caller's session. The lighting area provides it at wiring time."""

    async def __call__(
        self, session: AsyncSession, asset_ids: Sequence[str], now: datetime
    ) -> Mapping[str, float | None]:
        """Expected levels of ``asset_ids`` at ``now``."""
        ...


async def lighting_drift(
    session: AsyncSession, now: datetime, expected: ExpectedLevels
) -> tuple[list[AlarmSignal], list[tuple[int, str]]]:
    """Judge every enabled ``lighting_drift`` rule on the newest readings of the lights
    in service in its scope against the levels expected now. Lights that never reported
    are not judged (a silence is ``no_data``'s). Returns the signals and the rules that
    could not be evaluated."""
    rules = await session.execute(
        select(MonitoringRule)
        .where(
            MonitoringRule.enabled.is_(True),
            MonitoringRule.kind == RuleKind.LIGHTING_DRIFT.value,
        )
        .order_by(MonitoringRule.id)
    )
    signals: list[AlarmSignal] = []
    failed: list[tuple[int, str]] = []
    for rule in rules.scalars():
        try:
            condition = build(rule.kind, rule.params, None)
            assert isinstance(condition, LightingDrift)
            watched = asset_queries.id_query(
                types=[rule.asset_type],
                statuses=[AssetStatus.IN_SERVICE.value],
                communes=rule.communes or (),
            )
            newest = await telemetry_queries.newest_values(session, watched, condition.key)
            kept = await states.of_rule(session, rule.id)
            held = {(rule.id, a): s for a, s in kept.items()}
            assets = sorted(newest.keys() | kept.keys())
            levels = await expected(session, assets, now)
            changed: dict[tuple[int, str], State] = {}
            gone: dict[tuple[int, str], datetime | None] = {}
            for asset_id in assets:
                pair = (rule.id, asset_id)
                old = held.get(pair)
                reading = Reading(*newest[asset_id]) if asset_id in newest else None
                outcome = condition.judge(old, reading, levels.get(asset_id), now)
                if outcome.state is None:
                    if old is not None:
                        gone[pair] = None
                elif outcome.state != old:
                    changed[pair] = outcome.state
                if outcome.change is not None:
                    signals.append(_signal(rule, asset_id, outcome.change, now, outcome.detail))
        except Exception as exc:  # a rule's fault, whatever it is: disable it, go on
            failed.append((rule.id, describe(exc)))
            continue
        await states.save(session, changed, gone)
    return signals, failed


async def check_drift(
    db: Database, expected: ExpectedLevels, now: datetime | None = None
) -> list[DomainEvent]:
    """One run of the drift job: alarms raised and cleared in one transaction, rules
    that failed disabled in another. Returns the hub events."""
    now = now or utcnow()
    async with db.write() as session:
        signals, failed = await lighting_drift(session, now, expected)
        events = await raising.apply(session, signals, now)
    if failed:
        events += await disabling.disable_after_error(db, failed, now)
    return events
