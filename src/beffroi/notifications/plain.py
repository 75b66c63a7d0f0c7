"""Plain messages to people (not about an alarm): a crisis plan telling its notification
list. They are deliveries like any other, sent by the notifier with its retries, and
kept in the same delivery record; ``route_name`` names the list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.notifications.models import NotificationDelivery
from beffroi.notifications.states import Channel, DeliveryState

KIND = "message"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to one recipient: by e-mail (an address) or webhook (a URL)."""

    channel: Channel
    target: str
    payload: dict[str, Any]


async def add(
    session: AsyncSession, sender: str, commune: str | None, messages: list[Outgoing], now: datetime
) -> list[int]:
    """Write one pending delivery per message, in the caller's transaction; their ids."""
    rows = [
        NotificationDelivery(
            route_id=None,
            route_name=sender[:100],
            history_id=None,
            alarm_id=None,
            commune_code=commune,
            action=KIND,
            channel=m.channel.value,
            target=[m.target] if m.channel is Channel.EMAIL else m.target,
            state=DeliveryState.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            last_error=None,
            payload={"kind": KIND, **m.payload},
            created_at=now,
            sent_at=None,
        )
        for m in messages
    ]
    session.add_all(rows)
    await session.flush()
    return [r.id for r in rows]


async def states(session: AsyncSession, ids: list[int]) -> dict[str, int]:
    """How many of these deliveries are in each state."""
    if not ids:
        return {}
    stmt = (
        select(NotificationDelivery.state, func.count())
        .where(NotificationDelivery.id.in_(ids))
        .group_by(NotificationDelivery.state)
    )
    return {str(state): int(n) for state, n in (await session.execute(stmt)).all()}
