"""Escalation: a critical alarm nobody has acknowledged in time is escalated, once.

The escalation is an ``escalated`` entry in the alarm's history, written on the notifier's
request; it then flows through routing like any other entry, to the routes that want
escalations. "Once" is read from that history (an alarm with an ``escalated`` entry is
never picked again), and the caller's feed cursor, locked for the pass, keeps two
notifiers from escalating together.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select

from beffroi.alarms import feed
from beffroi.alarms.events import AlarmChanged
from beffroi.alarms.lifecycle import Action, AlarmState
from beffroi.alarms.models import Alarm, AlarmHistory
from beffroi.catalogue import Severity
from beffroi.config import Settings
from beffroi.core import audit
from beffroi.core.events import DomainEvent
from beffroi.core.principal import Principal
from beffroi.db import Database

ACTOR = "system:notifications"  # the notifier asks for escalations
PASS_LIMIT = 500


async def escalate_due(
    db: Database, settings: Settings, now: datetime, *, follower: str
) -> list[DomainEvent]:
    """Escalate every critical alarm still active and unacknowledged
    ``escalation_after_min`` after it was raised, not shelved, not grouped under a root
    cause, and not escalated before. ``follower`` names the feed cursor locked for the
    pass (the notifier's). Returns the events to publish."""
    cutoff = now - timedelta(minutes=settings.escalation_after_min)
    after_min = settings.escalation_after_min
    system = Principal.system(ACTOR)
    events: list[DomainEvent] = []
    async with db.write() as session:
        await feed.lock(session, follower, now)
        already = exists().where(
            AlarmHistory.alarm_id == Alarm.id, AlarmHistory.action == Action.ESCALATED
        )
        stmt = (
            select(Alarm)
            .where(
                Alarm.severity == Severity.CRITICAL,
                Alarm.state == AlarmState.ACTIVE_UNACKNOWLEDGED,
                Alarm.raised_at <= cutoff,
                Alarm.parent_id.is_(None),
                or_(Alarm.shelved_until.is_(None), Alarm.shelved_until <= now),
                ~already,
            )
            .order_by(Alarm.id)
            .limit(PASS_LIMIT)
            # Locked so an acknowledgement in flight is seen before escalating.
            .with_for_update()
        )
        for alarm in (await session.execute(stmt)).scalars():
            session.add(
                AlarmHistory(
                    alarm_id=alarm.id,
                    ts=now,
                    action=Action.ESCALATED.value,
                    actor=ACTOR,
                    actor_kind="system",
                    state=alarm.state,
                    detail={"after_min": after_min, "raised_at": alarm.raised_at.isoformat()},
                )
            )
            await audit.record(
                session,
                system,
                "alarm.escalate",
                target_type="alarm",
                target_id=str(alarm.id),
                commune=alarm.commune_code,
                reason=f"critical and unacknowledged for {after_min:g} min",
                details={"asset_id": alarm.asset_id, "alarm_type": alarm.alarm_type},
            )
            events.append(
                AlarmChanged(
                    alarm_id=alarm.id,
                    asset_id=alarm.asset_id,
                    commune=alarm.commune_code,
                    alarm_type=alarm.alarm_type,
                    severity=Severity(alarm.severity),
                    state=alarm.state,
                    action=Action.ESCALATED.value,
                    at=now,
                    parent_id=alarm.parent_id,
                )
            )
    return events
