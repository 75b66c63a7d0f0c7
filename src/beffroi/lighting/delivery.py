"""Delivering the compiled schedules to the cabinets' controllers, and what they acknowledge.

The hub sends a cabinet its schedule document on ``{root}/gateways/{cabinet}/schedule``
(QoS 1, not retained: see docs/device-api.md) and the controller answers on
``…/schedule/ack`` with ``{"version": n}``, the version it now runs. The hub keeps, per
cabinet, the version last sent and the one acknowledged (``lighting_deliveries``); a
cabinet whose acknowledged version is older than the compiled one is *behind*.

The rules of sending (at once, retried with a doubling wait, caught up on reconnection)
and of acknowledging are those of every versioned document the hub keeps on devices:
:mod:`beffroi.devices.delivery`; this module names lighting's tables.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from beffroi.core.context import Context
from beffroi.core.principal import Permission
from beffroi.db import Database
from beffroi.devices import delivery as generic
from beffroi.devices.delivery import Ack, AckOutcome, Reason, parse_ack, retry_after
from beffroi.lighting.models import LightingDelivery, LightingSchedule
from beffroi.lighting.reading import cabinet_types

__all__ = ["Ack", "AckOutcome", "Outgoing", "Reason", "parse_ack", "retry_after"]

SCHEDULES = generic.Documents(
    document=LightingSchedule,
    delivery=LightingDelivery,
    key="cabinet_id",
    action="lighting_schedule.deliver",
    counted="cabinets",
    noun="schedule",
    permission=Permission.LIGHTING_PROGRAM,
    device_types=cabinet_types,
)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One schedule to send: to which cabinet, which version, the message body."""

    cabinet_id: str
    version: int
    payload: bytes


async def deliver(
    ctx: Context,
    reason: Reason,
    cabinet_ids: Collection[str] | None = None,
    *,
    now: datetime | None = None,
) -> list[Outgoing]:
    """Mark as sent now, and return to send, the schedules (among ``cabinet_ids`` when
    given) that ``reason`` makes due (see :func:`beffroi.devices.delivery.deliver`)."""
    sent = await generic.deliver(SCHEDULES, ctx, reason, cabinet_ids, now=now)
    return [Outgoing(o.device_id, o.version, o.payload) for o in sent]


async def count_due(ctx: Context, *, now: datetime | None = None) -> int:
    """How many cabinets a ``RETRY`` round would send a schedule to now."""
    return await generic.count_due(SCHEDULES, ctx, now=now)


async def record_acks(db: Database, acks: Sequence[Ack]) -> AckOutcome:
    """Record the schedule versions controllers acknowledged, in one transaction (see
    :func:`beffroi.devices.delivery.record_acks`)."""
    return await generic.record_acks(SCHEDULES, db, acks)
