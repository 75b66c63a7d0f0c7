"""Delivering the compiled schedules to the cabinets' controllers, and what they acknowledge.

The hub sends a cabinet its schedule document on ``{root}/gateways/{cabinet}/schedule``
(QoS 1, not retained: see docs/device-api.md) and the controller answers on
``…/schedule/ack`` with ``{"version": n}``, the version it now runs. The hub keeps, per
cabinet, the version last sent and the one acknowledged (``lighting_deliveries``); a
cabinet whose acknowledged version is older than the compiled one is *behind*.

What is sent, and when: a compiled version never sent goes at once; one sent but not
acknowledged again after a wait that doubles with each try (:func:`retry_after`); and
whatever a cabinet is behind on as soon as it comes back online, whatever the wait.
Sending is marked in the database (committed) before the message leaves, so an
acknowledgement always finds the version it names among those sent.

Delivery is a system action, audited once per round; acknowledgements are device
telemetry: recorded, not audited.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final, TypeVar

import orjson
from sqlalchemy import Select, Table, bindparam, select, true, update

from beffroi.assets import queries as asset_queries
from beffroi.core.context import Context
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.db import Database
from beffroi.db.lists import among, parts
from beffroi.db.upsert import upsert
from beffroi.lighting.models import LightingDelivery, LightingSchedule
from beffroi.lighting.reading import cabinet_types

_Query = TypeVar("_Query", bound=Select)  # type: ignore[type-arg]

FIRST_RETRY: Final = timedelta(minutes=1)
LAST_RETRY: Final = timedelta(hours=1)


def retry_after(attempts: int) -> timedelta:
    """How long after its ``attempts``-th send an unacknowledged version is sent again:
    a minute, doubling, at most an hour (a controller offline for days costs 24 sends a
    day, and it gets its schedule at once when it reconnects anyway)."""
    wait: timedelta = FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 12)
    return min(wait, LAST_RETRY)


class Reason(StrEnum):
    """Why a delivery round runs (named in its audit entry)."""

    COMPILED = "compiled"  # new versions, or the gateway starting: what was never sent
    RECONNECTED = "reconnected"  # cabinets back online: the schedule in force, always
    RETRY = "retry"  # unacknowledged versions whose wait is over


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One schedule to send: to which cabinet, which version, the message body."""

    cabinet_id: str
    version: int
    payload: bytes


def schedule_payload(document: dict[str, Any]) -> bytes:
    """The message body of a schedule: its document, which carries its ``version``."""
    return orjson.dumps(document)


def parse_ack(payload: bytes) -> int | None:
    """The version an acknowledgement names (``{"version": n}``, n ≥ 1), or ``None`` when
    it is not one."""
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    version = body.get("version") if isinstance(body, dict) else None
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        return None
    return version


def _behind() -> Any:
    return LightingDelivery.acked_version.is_(None) | (
        LightingDelivery.acked_version < LightingSchedule.version
    )


def _in_scope(query: _Query, ctx: Context) -> _Query:
    """``query`` limited to the live cabinets in the caller's scope: a decommissioned
    cabinet keeps its last schedule row, but nothing is sent to it any more."""
    live = asset_queries.id_query(types=cabinet_types(), scope=ctx.principal, only_live=True)
    return query.where(LightingSchedule.cabinet_id.in_(live.scalar_subquery()))


async def deliver(
    ctx: Context,
    reason: Reason,
    cabinet_ids: Collection[str] | None = None,
    *,
    now: datetime | None = None,
) -> list[Outgoing]:
    """Mark as sent now, and return to send, the schedules (among ``cabinet_ids`` when
    given) that ``reason`` makes due: for ``COMPILED`` the versions never sent, for
    ``RETRY`` those too and the unacknowledged ones whose wait is over, for
    ``RECONNECTED`` the schedule in force of every cabinet named, behind or not: a
    controller replaced or reset under the same id has acknowledged nothing, and only
    its reconnection tells the hub. Idempotent: what is not due is left alone."""
    now = now or utcnow()
    async with change(ctx, "lighting_schedule.deliver", target_type="lighting_schedule") as uc:
        ctx.principal.require(Permission.LIGHTING_PROGRAM)
        session = uc.session
        base = _in_scope(
            select(
                LightingSchedule.cabinet_id,
                LightingSchedule.version,
                LightingSchedule.document,
                LightingDelivery.delivered_version,
                LightingDelivery.delivered_at,
                LightingDelivery.attempts,
            )
            .outerjoin(LightingDelivery)
            .where(true() if reason is Reason.RECONNECTED else _behind()),
            ctx,
        )
        rows = []
        if cabinet_ids is None:
            rows = list(await session.execute(base))
        else:
            for part in parts(session, sorted(set(cabinet_ids))):
                where = among(session, LightingSchedule.cabinet_id, part)
                rows += list(await session.execute(base.where(where)))
        out: list[Outgoing] = []
        marks: list[dict[str, Any]] = []
        for row in rows:
            fresh = row.delivered_version != row.version
            waited = not fresh and row.delivered_at + retry_after(row.attempts) <= now
            if not (fresh or reason is Reason.RECONNECTED or (reason is Reason.RETRY and waited)):
                continue
            attempts = 1 if fresh else row.attempts + 1
            marks.append(
                {
                    "cabinet_id": row.cabinet_id,
                    "delivered_version": row.version,
                    "delivered_at": now,
                    "attempts": attempts,
                }
            )
            out.append(Outgoing(row.cabinet_id, row.version, schedule_payload(row.document)))
        if marks:
            await upsert(
                session,
                LightingDelivery,
                marks,
                keys=["cabinet_id"],
                update=["delivered_version", "delivered_at", "attempts"],
            )
            uc.audit(details={"reason": reason.value, "cabinets": len(marks)})
    return sorted(out, key=lambda o: o.cabinet_id)


async def count_due(ctx: Context, *, now: datetime | None = None) -> int:
    """How many cabinets a ``RETRY`` round would send a schedule to now."""
    now = now or utcnow()
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        rows = await session.execute(
            _in_scope(
                select(
                    LightingSchedule.version,
                    LightingDelivery.delivered_version,
                    LightingDelivery.delivered_at,
                    LightingDelivery.attempts,
                )
                .outerjoin(LightingDelivery)
                .where(_behind()),
                ctx,
            )
        )
        return sum(
            1
            for r in rows
            if r.delivered_version != r.version or r.delivered_at + retry_after(r.attempts) <= now
        )


@dataclass(frozen=True, slots=True)
class Ack:
    """A controller said it runs ``version`` (received at ``at``)."""

    cabinet_id: str
    version: int
    at: datetime


@dataclass(slots=True)
class AckOutcome:
    """What a batch of acknowledgements did: cabinets whose acknowledged version moved,
    repeats of what was known (nothing to do), and acknowledgements ignored, with why."""

    recorded: list[str] = field(default_factory=list)
    repeated: int = 0
    ignored: list[tuple[str, int, str]] = field(default_factory=list)


async def record_acks(db: Database, acks: Sequence[Ack]) -> AckOutcome:
    """Record the versions controllers acknowledged, in one transaction.

    An acknowledgement counts only for a version the hub sent that cabinet (1 to the
    last sent); any other is ignored (a controller confused, or a hub database restored
    from an older backup). The acknowledged version never goes down: an older one
    arriving late (a QoS 1 redelivery) changes nothing. One older than the compiled
    version leaves the cabinet behind, which is what it is.
    """
    outcome = AckOutcome()
    if not acks:
        return outcome
    async with db.write() as session:
        ids = sorted({a.cabinet_id for a in acks})
        known: dict[str, tuple[int, int | None]] = {}
        for part in parts(session, ids):
            rows = await session.execute(
                select(
                    LightingDelivery.cabinet_id,
                    LightingDelivery.delivered_version,
                    LightingDelivery.acked_version,
                ).where(among(session, LightingDelivery.cabinet_id, part))
            )
            known.update({r.cabinet_id: (r.delivered_version, r.acked_version) for r in rows})
        moved: dict[str, tuple[int, datetime]] = {}
        for ack in acks:
            state = known.get(ack.cabinet_id)
            if state is None:
                outcome.ignored.append((ack.cabinet_id, ack.version, "no schedule sent"))
                continue
            sent, acked = state
            if ack.version > sent:
                outcome.ignored.append((ack.cabinet_id, ack.version, f"not sent (last {sent})"))
                continue
            if acked is not None and ack.version <= acked:
                outcome.repeated += 1
                continue
            known[ack.cabinet_id] = (sent, ack.version)
            moved[ack.cabinet_id] = (ack.version, ack.at)
        if moved:
            table: Table = LightingDelivery.__table__  # type: ignore[assignment]
            await session.execute(
                update(table).where(table.c.cabinet_id == bindparam("key")),
                [
                    {"key": cabinet, "acked_version": version, "acked_at": at}
                    for cabinet, (version, at) in sorted(moved.items())
                ],
            )
        outcome.recorded = sorted(moved)
    return outcome
