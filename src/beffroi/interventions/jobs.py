"""The interventions worker: work orders from alarms, and repairs confirmed by the field.

Two steps, each a plain function of the time so tests drive them with a controlled clock,
and one loop (:func:`run`) that ``beffroi serve`` runs beside the API:

- :func:`follow_alarms` reads ``alarm_history`` from a durable cursor
  (:mod:`beffroi.alarms.feed`, which also waits for entries committed out of order) and
  opens a work order for each raised root alarm that a policy covers.
- :func:`confirm_repairs` clears the alarms of interventions resolved with
  ``clear_alarms`` once their assets are heard from again, fault-free.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms import feed, raising
from beffroi.alarms import queries as alarm_queries
from beffroi.alarms.lifecycle import ACTIVE, SEVERITY_RANK, Action, AlarmSource
from beffroi.alarms.queries import AlarmFacts
from beffroi.assets import queries as asset_queries
from beffroi.catalogue import Severity
from beffroi.config import Settings
from beffroi.core import audit
from beffroi.core.context import Runtime
from beffroi.core.events import DomainEvent
from beffroi.core.principal import Principal
from beffroi.core.tasks import every
from beffroi.core.time import utcnow
from beffroi.db import Database
from beffroi.interventions import sla
from beffroi.interventions.lifecycle import OPEN, Category, Priority, Source
from beffroi.interventions.models import (
    Intervention,
    InterventionAlarm,
    InterventionPolicy,
    Team,
)
from beffroi.interventions.records import NewIntervention, history, insert, link
from beffroi.telemetry import queries as telemetry_queries

log = structlog.get_logger(__name__)

ACTOR = "system:interventions"
ACTOR_KIND = "system"
SYSTEM = Principal.system(ACTOR)
FEED = "interventions"  # this follower's name in alarm_feed_cursors
BATCH = 500


@dataclass(slots=True)
class Followed:
    """What one pass of :func:`follow_alarms` did."""

    created: list[int] = field(default_factory=list)
    linked: list[int] = field(default_factory=list)
    skipped: int = 0
    events: list[DomainEvent] = field(default_factory=list)


def _matches(policy: InterventionPolicy | None, alarm: AlarmFacts) -> bool:
    if policy is None or not policy.enabled:
        return False
    return SEVERITY_RANK[Severity(alarm.severity)] <= SEVERITY_RANK[Severity(policy.min_severity)]


async def _open_for_same_fault(session: AsyncSession, alarm: AlarmFacts) -> int | None:
    """An open intervention already dealing with an alarm of this asset and type."""
    same_fault = await alarm_queries.ids_of(session, alarm.asset_id, alarm.alarm_type)
    stmt = (
        select(Intervention.id)
        .join(InterventionAlarm, InterventionAlarm.intervention_id == Intervention.id)
        .where(
            InterventionAlarm.alarm_id.in_(same_fault),
            Intervention.status.in_([s.value for s in OPEN]),
        )
        .order_by(Intervention.id)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def _team_for(teams: list[Team], policy: InterventionPolicy, commune: str) -> int | None:
    """The policy's team, else the first team (by id) covering the commune and category."""
    if policy.team_id is not None:
        return policy.team_id
    for team in teams:
        if commune in team.communes and policy.category in team.categories:
            return team.id
    return None


async def follow_alarms(db: Database, settings: Settings, now: datetime | None = None) -> Followed:
    """Open a work order for each raised alarm that a policy covers, once it has stood
    for the grace period (so a late root-cause grouping is seen):

    - only root alarms: one grouped under a root cause is the root's work;
    - only alarms still active: one that cleared itself within the grace needs no visit;
    - none twice: when an open intervention already deals with an alarm of the same
      asset and type, the new alarm is linked to it instead.

    The cursor advances in the transaction that creates the work orders, so a crash
    neither loses nor repeats one.
    """
    now = now or utcnow()
    ready_before = now - timedelta(seconds=settings.intervention_alarm_grace_s)
    config = sla.SlaConfig.from_settings(settings)
    done = Followed()
    while True:
        async with db.write() as session:
            cursor = await feed.lock(session, FEED, now)
            rows = await feed.read(session, cursor, BATCH)
            policies = {
                p.alarm_type: p
                for p in (await session.execute(select(InterventionPolicy))).scalars()
            }
            teams = list((await session.execute(select(Team).order_by(Team.id))).scalars())
            seen: list[int] = []
            for entry, alarm in rows:
                if entry.ts > ready_before:
                    # In id order: what comes after waits too, so the cursor never skips.
                    break
                if entry.action == Action.RAISED.value:
                    await _follow_one(session, alarm, policies, teams, config, now, done)
                seen.append(entry.id)
            feed.move(cursor, seen, now)
        if len(seen) < BATCH:
            return done


async def _follow_one(
    session: AsyncSession,
    alarm: AlarmFacts,
    policies: dict[str, InterventionPolicy],
    teams: list[Team],
    config: sla.SlaConfig,
    now: datetime,
    done: Followed,
) -> None:
    if alarm.parent_id is not None or not alarm.active:
        done.skipped += 1
        return
    policy = policies.get(alarm.alarm_type)
    if policy is None or not _matches(policy, alarm):
        done.skipped += 1
        return
    existing = await _open_for_same_fault(session, alarm)
    if existing is not None:
        new_alarms, _ = await link(session, existing, [alarm.id], [alarm.asset_id], now)
        if new_alarms:
            row = await session.get(Intervention, existing)
            assert row is not None
            row.updated_at = now
            done.events.append(
                history(
                    session,
                    row,
                    now,
                    ACTOR,
                    ACTOR_KIND,
                    "linked",
                    row.status,
                    {"alarm_ids": new_alarms, "by": "alarm follower"},
                )
            )
            done.linked.append(existing)
        else:
            done.skipped += 1
        return
    asset = (await asset_queries.facts(session, [alarm.asset_id])).get(alarm.asset_id)
    name = asset.name if asset is not None else alarm.asset_id
    row, event = await insert(
        session,
        NewIntervention(
            category=Category(policy.category),
            priority=Priority(policy.priority),
            title=f"{alarm.alarm_type} – {name}"[:200],
            description=f"Opened by alarm {alarm.id} ({alarm.severity}) raised at "
            f"{alarm.raised_at.isoformat()}.",
            commune=alarm.commune_code,
            asset_id=alarm.asset_id if asset is not None else None,
            lon=asset.lon if asset is not None else None,
            lat=asset.lat if asset is not None else None,
            team_id=_team_for(teams, policy, alarm.commune_code),
            assignee_id=None,
            source=Source.ALARM,
            alarm_ids=[alarm.id],
        ),
        config,
        ACTOR,
        ACTOR_KIND,
        now,
    )
    await audit.record(
        session,
        SYSTEM,
        "intervention.create",
        target_type="intervention",
        target_id=str(row.id),
        commune=row.commune_code,
        details={
            "source": "alarm",
            "alarm_id": alarm.id,
            "policy_id": policy.id,
            "team_id": row.team_id,
            "priority": row.priority,
        },
    )
    done.events.append(event)
    done.created.append(row.id)


@dataclass(slots=True)
class Confirmed:
    """What one pass of :func:`confirm_repairs` did."""

    cleared: list[int] = field(default_factory=list)
    finished: list[int] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)


async def _repaired(session: AsyncSession, alarm: AlarmFacts, resolved_at: datetime) -> bool:
    """Whether the asset's state confirms the repair: heard from (online) since the
    resolution and, for a device fault, that fault not raised again since."""
    heard = await telemetry_queries.heard(session, alarm.asset_id)
    if heard is None or not heard.online or heard.last_seen_at is None:
        return False
    if heard.last_seen_at <= resolved_at:
        return False
    return not (
        alarm.source == AlarmSource.DEVICE.value
        and await telemetry_queries.fault_raised_since(
            session, alarm.asset_id, alarm.alarm_type, resolved_at
        )
    )


async def confirm_repairs(db: Database, now: datetime | None = None) -> Confirmed:
    """Clear the linked alarms of interventions resolved with ``clear_alarms`` whose
    assets confirm the repair. An intervention stops waiting once none of its alarms is
    active any more (or when it is reopened or cancelled)."""
    now = now or utcnow()
    done = Confirmed()
    async with db.write() as session:
        pending = (
            (
                await session.execute(
                    select(Intervention)
                    .where(Intervention.clear_alarms_pending.is_(True))
                    .order_by(Intervention.id)
                    .limit(BATCH)
                    .with_for_update()
                )
            )
            .scalars()
            .all()
        )
        for row in pending:
            resolved_at = row.resolved_at or row.updated_at
            linked = (
                await session.execute(
                    select(InterventionAlarm.alarm_id).where(
                        InterventionAlarm.intervention_id == row.id
                    )
                )
            ).scalars()
            found = await alarm_queries.alarms(session, linked)
            active_states = {s.value for s in ACTIVE}
            alarms = [a for _, a in sorted(found.items()) if a.state in active_states]
            ready = [a.id for a in alarms if await _repaired(session, a, resolved_at)]
            if ready:
                done.events += await raising.clear(
                    session,
                    ready,
                    actor=f"intervention:{row.id}",
                    actor_kind=ACTOR_KIND,
                    reason=f"repair confirmed after intervention {row.id}",
                    now=now,
                )
                done.cleared += ready
                await audit.record(
                    session,
                    SYSTEM,
                    "intervention.clear_alarms",
                    target_type="intervention",
                    target_id=str(row.id),
                    commune=row.commune_code,
                    details={"alarm_ids": ready},
                )
            if len(ready) == len(alarms):
                row.clear_alarms_pending = False
                done.finished.append(row.id)
            if ready or len(ready) == len(alarms):
                row.updated_at = now
                done.events.append(
                    history(
                        session,
                        row,
                        now,
                        ACTOR,
                        ACTOR_KIND,
                        "alarms_cleared",
                        row.status,
                        {"alarm_ids": ready, "waiting": len(alarms) - len(ready)},
                    )
                )
    return done


async def run_once(runtime: Runtime, now: datetime | None = None) -> None:
    """One pass of both steps; their events go to the hub."""
    followed = await follow_alarms(runtime.db, runtime.settings, now)
    confirmed = await confirm_repairs(runtime.db, now)
    runtime.events.publish_many([*followed.events, *confirmed.events])
    if followed.created or confirmed.cleared:
        log.info(
            "interventions.pass",
            created=followed.created,
            linked=followed.linked,
            cleared=confirmed.cleared,
        )


async def run(runtime: Runtime, stop: asyncio.Event) -> None:
    """Run both steps every ``intervention_poll_s`` seconds until ``stop`` is set. A pass
    that fails is logged and the next one tries again: the cursor has not moved."""
    await every(
        runtime.settings.intervention_poll_s,
        lambda: run_once(runtime),
        stop,
        name="interventions",
        at_once=True,
    )
