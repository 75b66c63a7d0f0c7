"""Versioned documents the hub keeps on devices, delivered and acknowledged: the generic
machinery behind the lighting cabinets' schedules and the traffic controllers' timetables.

An area keeps, per device, a *document* row (the device id, a ``version`` raised when the
content changes, the JSON ``document`` carrying that version) and a *delivery* row (the
version last sent, when, how many times in a row, and the version the device
acknowledged); it describes both tables in a :class:`Documents`. The device is *behind*
when the version it acknowledged is older than the document's (or it acknowledged none).

What is sent, and when: a version never sent goes at once; one sent but not acknowledged
again after a wait that doubles with each try (:func:`retry_after`); and whatever a
device is behind on as soon as it comes back online, whatever the wait. Sending is marked
in the database (committed) before the message leaves, so an acknowledgement always
finds the version it names among those sent. Delivery is a system action, audited once
per round; acknowledgements are device telemetry: recorded, not audited.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
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

_Query = TypeVar("_Query", bound=Select)  # type: ignore[type-arg]

FIRST_RETRY: Final = timedelta(minutes=1)
LAST_RETRY: Final = timedelta(hours=1)


def retry_after(attempts: int) -> timedelta:
    """How long after its ``attempts``-th send an unacknowledged version is sent again:
    a minute, doubling, at most an hour (a device offline for days costs 24 sends a day,
    and it gets its document at once when it reconnects anyway)."""
    wait: timedelta = FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 12)
    return min(wait, LAST_RETRY)


class Reason(StrEnum):
    """Why a delivery round runs (named in its audit entry)."""

    COMPILED = "compiled"  # new versions, or the gateway starting: what was never sent
    RECONNECTED = "reconnected"  # devices back online: the version in force, always
    RETRY = "retry"  # unacknowledged versions whose wait is over


@dataclass(frozen=True, slots=True)
class Documents:
    """One kind of delivered document: its two tables (sharing the key column ``key``),
    the audit action of a delivery round and the word counting its devices, what the
    document is called, who may deliver, and the asset types that hold such documents."""

    document: type[Any]
    delivery: type[Any]
    key: str
    action: str
    counted: str
    noun: str
    permission: Permission
    device_types: Callable[[], Collection[str]]

    def column(self, table: type[Any], name: str) -> Any:
        """A column of one of the two tables."""
        return getattr(table, name)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One document to send: to which device, which version, the message body."""

    device_id: str
    version: int
    payload: bytes


def document_payload(document: dict[str, Any]) -> bytes:
    """The message body of a document: itself, carrying its ``version``."""
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


def _behind(kind: Documents) -> Any:
    acked = kind.delivery.acked_version
    return acked.is_(None) | (acked < kind.document.version)


def _in_scope(kind: Documents, query: _Query, ctx: Context) -> _Query:
    """``query`` limited to the live devices in the caller's scope: a decommissioned
    device keeps its last document row, but nothing is sent to it any more."""
    live = asset_queries.id_query(
        types=list(kind.device_types()), scope=ctx.principal, only_live=True
    )
    return query.where(kind.column(kind.document, kind.key).in_(live.scalar_subquery()))


async def deliver(
    kind: Documents,
    ctx: Context,
    reason: Reason,
    device_ids: Collection[str] | None = None,
    *,
    now: datetime | None = None,
) -> list[Outgoing]:
    """Mark as sent now, and return to send, the documents (among ``device_ids`` when
    given) that ``reason`` makes due: for ``COMPILED`` the versions never sent, for
    ``RETRY`` those too and the unacknowledged ones whose wait is over, for
    ``RECONNECTED`` the version in force of every device named, behind or not: a device
    replaced or reset under the same id has acknowledged nothing, and only its
    reconnection tells the hub. Idempotent: what is not due is left alone."""
    now = now or utcnow()
    doc, dlv = kind.document, kind.delivery
    doc_key = kind.column(doc, kind.key)
    async with change(ctx, kind.action, target_type=kind.action.split(".")[0]) as uc:
        ctx.principal.require(kind.permission)
        session = uc.session
        base = _in_scope(
            kind,
            select(
                doc_key.label("device_id"),
                doc.version,
                doc.document,
                dlv.delivered_version,
                dlv.delivered_at,
                dlv.attempts,
            )
            .outerjoin(dlv)
            .where(true() if reason is Reason.RECONNECTED else _behind(kind)),
            ctx,
        )
        rows = []
        if device_ids is None:
            rows = list(await session.execute(base))
        else:
            for part in parts(session, sorted(set(device_ids))):
                rows += list(await session.execute(base.where(among(session, doc_key, part))))
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
                    kind.key: row.device_id,
                    "delivered_version": row.version,
                    "delivered_at": now,
                    "attempts": attempts,
                }
            )
            out.append(Outgoing(row.device_id, row.version, document_payload(row.document)))
        if marks:
            await upsert(
                session,
                dlv,
                marks,
                keys=[kind.key],
                update=["delivered_version", "delivered_at", "attempts"],
            )
            uc.audit(details={"reason": reason.value, kind.counted: len(marks)})
    return sorted(out, key=lambda o: o.device_id)


async def count_due(kind: Documents, ctx: Context, *, now: datetime | None = None) -> int:
    """How many devices a ``RETRY`` round would send a document to now."""
    now = now or utcnow()
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        rows = await session.execute(
            _in_scope(
                kind,
                select(
                    kind.document.version,
                    kind.delivery.delivered_version,
                    kind.delivery.delivered_at,
                    kind.delivery.attempts,
                )
                .outerjoin(kind.delivery)
                .where(_behind(kind)),
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
    """A device said it runs ``version`` (received at ``at``)."""

    device_id: str
    version: int
    at: datetime


@dataclass(slots=True)
class AckOutcome:
    """What a batch of acknowledgements did: devices whose acknowledged version moved,
    repeats of what was known (nothing to do), and acknowledgements ignored, with why."""

    recorded: list[str] = field(default_factory=list)
    repeated: int = 0
    ignored: list[tuple[str, int, str]] = field(default_factory=list)


async def record_acks(kind: Documents, db: Database, acks: Sequence[Ack]) -> AckOutcome:
    """Record the versions devices acknowledged, in one transaction.

    An acknowledgement counts only for a version the hub sent that device (1 to the last
    sent); any other is ignored (a device confused, or a hub database restored from an
    older backup). The acknowledged version never goes down: an older one arriving late
    (a QoS 1 redelivery) changes nothing. One older than the current version leaves the
    device behind, which is what it is.
    """
    outcome = AckOutcome()
    if not acks:
        return outcome
    key = kind.column(kind.delivery, kind.key)
    async with db.write() as session:
        ids = sorted({a.device_id for a in acks})
        known: dict[str, tuple[int, int | None]] = {}
        for part in parts(session, ids):
            rows = await session.execute(
                select(
                    key.label("device_id"),
                    kind.delivery.delivered_version,
                    kind.delivery.acked_version,
                ).where(among(session, key, part))
            )
            known.update({r.device_id: (r.delivered_version, r.acked_version) for r in rows})
        moved: dict[str, tuple[int, datetime]] = {}
        for ack in acks:
            state = known.get(ack.device_id)
            if state is None:
                outcome.ignored.append((ack.device_id, ack.version, f"no {kind.noun} sent"))
                continue
            sent, acked = state
            if ack.version > sent:
                outcome.ignored.append((ack.device_id, ack.version, f"not sent (last {sent})"))
                continue
            if acked is not None and ack.version <= acked:
                outcome.repeated += 1
                continue
            known[ack.device_id] = (sent, ack.version)
            moved[ack.device_id] = (ack.version, ack.at)
        if moved:
            table: Table = kind.delivery.__table__
            await session.execute(
                update(table).where(table.c[kind.key] == bindparam("key")),
                [
                    {"key": device, "acked_version": version, "acked_at": at}
                    for device, (version, at) in sorted(moved.items())
                ],
            )
        outcome.recorded = sorted(moved)
    return outcome
