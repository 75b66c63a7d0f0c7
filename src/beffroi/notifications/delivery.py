"""Sending the deliveries that are due, with retries and exponential backoff.

A pass claims the due deliveries in a short transaction (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so two notifiers never claim the same one) by counting the attempt and
pushing its due time out by a lease; then it sends them, several at a time, outside any
transaction; then it records each outcome. A process that dies while sending leaves the
delivery to be tried again when the lease runs out: at least once, never lost.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import select

from beffroi.config import Settings
from beffroi.core.events import DomainEvent
from beffroi.db import Database
from beffroi.notifications import senders
from beffroi.notifications.events import DeliveryChanged
from beffroi.notifications.models import NotificationDelivery
from beffroi.notifications.senders import SendFailed
from beffroi.notifications.states import DeliveryState

log = structlog.get_logger(__name__)

PASS_LIMIT = 200
MAX_DELAY = timedelta(hours=6)
MIN_LEASE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery taken for one attempt."""

    id: int
    route_id: int | None
    alarm_id: int | None
    channel: str
    target: Any
    payload: dict[str, Any]
    attempts: int


@dataclass(slots=True)
class Sent:
    """What one pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    events: list[DomainEvent] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        """Deliveries attempted in the pass."""
        return self.sent + self.retrying + self.failed


def retry_delay(settings: Settings, attempts: int) -> timedelta:
    """How long to wait after failed attempt number ``attempts`` (1, 2…): the base delay,
    doubled at each attempt, at most :data:`MAX_DELAY`."""
    # Not a retry library's: the next attempt is a due time stored with the delivery (any
    # process may make it, after a restart too), where those libraries sleep in-process.
    seconds = settings.notification_retry_base_s * 2 ** min(attempts - 1, 30)
    return min(timedelta(seconds=seconds), MAX_DELAY)


def lease(settings: Settings) -> timedelta:
    """How long a claimed delivery is left alone: longer than any attempt can take (an
    SMTP exchange is several steps, each with its timeout)."""
    return max(MIN_LEASE, timedelta(seconds=10 * settings.notification_timeout_s))


def _event(row: NotificationDelivery, now: datetime) -> DeliveryChanged:
    return DeliveryChanged(row.id, row.route_id, row.alarm_id, row.state, row.attempts, now)


async def _claim(
    db: Database, settings: Settings, now: datetime, limit: int, done: Sent
) -> list[Claimed]:
    async with db.write() as session:
        stmt = (
            select(NotificationDelivery)
            .where(
                NotificationDelivery.state == DeliveryState.PENDING,
                NotificationDelivery.next_attempt_at <= now,
            )
            .order_by(NotificationDelivery.next_attempt_at, NotificationDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed: list[Claimed] = []
        for row in (await session.execute(stmt)).scalars():
            if row.attempts >= settings.notification_max_attempts:
                # Its last attempt was claimed by a process that never said how it went.
                row.state = DeliveryState.FAILED.value
                row.next_attempt_at = None
                row.last_error = (
                    row.last_error or "gave up: no outcome recorded for the last attempt"
                )[: senders.ERROR_MAX]
                done.failed += 1
                done.events.append(_event(row, now))
                continue
            row.attempts += 1
            row.next_attempt_at = now + lease(settings)
            claimed.append(
                Claimed(
                    row.id,
                    row.route_id,
                    row.alarm_id,
                    row.channel,
                    row.target,
                    row.payload,
                    row.attempts,
                )
            )
    return claimed


async def attempt(
    settings: Settings, client: httpx.AsyncClient, item: Claimed
) -> SendFailed | None:
    """Send one claimed delivery; the failure, if any (never raises)."""
    try:
        await senders.send(settings, client, item.channel, item.target, item.payload)
    except SendFailed as exc:
        return exc
    except Exception as exc:  # a bug must cost one attempt, not the whole pass
        log.exception("notification send crashed", delivery_id=item.id)
        return SendFailed(f"internal error: {type(exc).__name__}: {exc}")
    return None


async def _record(
    db: Database,
    settings: Settings,
    outcomes: list[tuple[Claimed, SendFailed | None]],
    now: datetime,
    done: Sent,
) -> None:
    by_id = {item.id: (item, error) for item, error in outcomes}
    async with db.write() as session:
        stmt = (
            select(NotificationDelivery)
            .where(NotificationDelivery.id.in_(sorted(by_id)))
            .with_for_update()
        )
        for row in (await session.execute(stmt)).scalars():
            item, error = by_id[row.id]
            if row.attempts != item.attempts:
                continue  # taken over after the lease ran out: the newer attempt decides
            if error is None:
                row.state = DeliveryState.SENT.value
                row.sent_at = now
                row.next_attempt_at = None
                done.sent += 1
            else:
                row.last_error = str(error)[: senders.ERROR_MAX]
                if error.final or row.attempts >= settings.notification_max_attempts:
                    row.state = DeliveryState.FAILED.value
                    row.next_attempt_at = None
                    done.failed += 1
                else:
                    row.next_attempt_at = now + retry_delay(settings, row.attempts)
                    done.retrying += 1
            done.events.append(_event(row, now))


async def send_due(
    db: Database,
    settings: Settings,
    now: datetime,
    *,
    client: httpx.AsyncClient | None = None,
    limit: int = PASS_LIMIT,
) -> Sent:
    """Attempt every delivery due at ``now`` (at most ``limit``), at most
    ``notification_concurrency`` at a time, and record how each went."""
    done = Sent()
    claimed = await _claim(db, settings, now, limit, done)
    if not claimed:
        return done
    gate = asyncio.Semaphore(settings.notification_concurrency)

    async def _one(http: httpx.AsyncClient, item: Claimed) -> tuple[Claimed, SendFailed | None]:
        async with gate:
            return item, await attempt(settings, http, item)

    if client is None:
        async with httpx.AsyncClient() as own:
            outcomes = await asyncio.gather(*(_one(own, item) for item in claimed))
    else:
        outcomes = await asyncio.gather(*(_one(client, item) for item in claimed))
    await _record(db, settings, list(outcomes), now, done)
    return done
