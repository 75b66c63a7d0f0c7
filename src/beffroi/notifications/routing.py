"""Routing: new alarm history entries become deliveries of the routes that want them.

The alarm area writes every raise, clear, acknowledgement… to ``alarm_history`` in the
transaction of the change; this module follows that table with a durable cursor, so
routing survives restarts, works across processes and the alarm code knows nothing of
notifications. Cursor move and deliveries commit together: an entry is routed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms import feed
from beffroi.alarms.lifecycle import Action
from beffroi.alarms.queries import AlarmFacts, HistoryEntry
from beffroi.communes.service import resolve
from beffroi.config import Settings
from beffroi.core.errors import InvalidInput
from beffroi.db import Database
from beffroi.db.upsert import dialect_insert
from beffroi.notifications import messages
from beffroi.notifications.matching import Entry, Filter, matches
from beffroi.notifications.models import NotificationDelivery, NotificationRoute
from beffroi.notifications.states import DeliveryState

BATCH = 1000
FEED = "notifications"  # this follower's name in alarm_feed_cursors
# Rows per INSERT: well under the bound parameters SQLite accepts in one statement.
INSERT_CHUNK = 500
# Shelving silences an alarm: no news of it coming back or escalating while shelved.
SILENCED_WHILE_SHELVED = frozenset({Action.RAISED.value, Action.ESCALATED.value})


@dataclass(slots=True)
class Routed:
    """What one routing pass did."""

    entries: int = 0
    deliveries: int = 0
    full: bool = False
    delivery_ids: list[int] = field(default_factory=list)


def filter_of(route: NotificationRoute) -> Filter:
    """A route's filters, for :func:`matches`."""
    return Filter(
        severities=route.severities,
        alarm_types=route.alarm_types,
        communes=route.communes,
        domains=route.domains,
        actions=route.actions,
        days=route.days,
        time_from=route.time_from,
        time_to=route.time_to,
        escalation_only=route.escalation_only,
    )


def entry_of(alarm: AlarmFacts, history: HistoryEntry) -> Entry:
    """What routing looks at in one history entry (and its alarm as it is now)."""
    return Entry(
        action=history.action,
        severity=alarm.severity,
        alarm_type=alarm.alarm_type,
        commune=alarm.commune_code,
        domain=alarm.domain,
        ts=history.ts,
    )


def silenced(alarm: AlarmFacts, history: HistoryEntry) -> bool:
    """Entries nobody is told about: those of an alarm grouped under a root cause (the
    root cause speaks for the group), and raises or escalations while shelved."""
    if alarm.parent_id is not None:
        return True
    shelved = alarm.shelved_until is not None and alarm.shelved_until > history.ts
    return shelved and history.action in SILENCED_WHILE_SHELVED


class CommuneNames:
    """Commune display names, looked up once per pass."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.names: dict[str, str] = {}

    async def get(self, code: str) -> str:
        """The name of commune ``code`` (the code itself if unknown)."""
        if code not in self.names:
            try:
                self.names[code] = (await resolve(self.session, code)).name
            except InvalidInput:
                self.names[code] = code
        return self.names[code]


def delivery_row(
    route: NotificationRoute,
    payload: dict[str, Any],
    now: datetime,
    *,
    history_id: int | None,
    alarm_id: int | None,
    commune: str | None,
    action: str,
) -> dict[str, Any]:
    """A new pending delivery of ``route``, due now."""
    return {
        "route_id": route.id,
        "route_name": route.name,
        "history_id": history_id,
        "alarm_id": alarm_id,
        "commune_code": commune,
        "action": action,
        "channel": route.channel,
        "target": route.target,
        "state": DeliveryState.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": None,
        "payload": payload,
        "created_at": now,
        "sent_at": None,
    }


async def _insert(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert deliveries; one that exists already (same route and entry) is skipped."""
    if not rows:
        return []
    ids: list[int] = []
    for start in range(0, len(rows), INSERT_CHUNK):
        stmt = (
            dialect_insert(session, NotificationDelivery)
            .values(list(rows[start : start + INSERT_CHUNK]))
            .on_conflict_do_nothing(index_elements=["route_id", "history_id"])
            .returning(NotificationDelivery.id)
        )
        ids += (await session.execute(stmt)).scalars()
    return ids


async def route_new(
    db: Database, settings: Settings, now: datetime, *, limit: int = BATCH
) -> Routed:
    """Route the history entries written since the last pass (at most ``limit``): one
    pending delivery per matching enabled route. Returns what it did; ``full`` says more
    entries are waiting."""
    done = Routed()
    async with db.write() as session:
        row = await feed.lock(session, FEED, now)
        found = await feed.read(session, row, limit)
        if not feed.move(row, (h.id for h, _ in found), now):
            return done
        routes = list(
            (
                await session.execute(
                    select(NotificationRoute)
                    .where(NotificationRoute.enabled.is_(True))
                    .order_by(NotificationRoute.id)
                )
            ).scalars()
        )
        filters = [(route, filter_of(route)) for route in routes]
        names = CommuneNames(session)
        rows: list[dict[str, Any]] = []
        for history, alarm in found:
            if silenced(alarm, history):
                continue
            entry = entry_of(alarm, history)
            for route, wanted in filters:
                if not matches(wanted, entry, settings.zone):
                    continue
                payload = messages.alarm_payload(
                    alarm, history, await names.get(alarm.commune_code), route.name
                )
                rows.append(
                    delivery_row(
                        route,
                        payload,
                        now,
                        history_id=history.id,
                        alarm_id=alarm.id,
                        commune=alarm.commune_code,
                        action=history.action,
                    )
                )
        done.delivery_ids = await _insert(session, rows)
    done.entries = len(found)
    done.deliveries = len(done.delivery_ids)
    done.full = len(found) >= limit
    return done
