"""Periodic jobs of the telemetry area: silence detection, partitions, rollups, retention."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, func, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as asset_queries
from beffroi.catalogue import CATALOGUE
from beffroi.core.context import Context
from beffroi.core.events import DomainEvent
from beffroi.core.time import utcnow
from beffroi.db import Database
from beffroi.db.upsert import dialect_insert
from beffroi.telemetry import partitions
from beffroi.telemetry.events import ConnectivityChanged
from beffroi.telemetry.models import (
    DeviceStatus,
    RejectedMessage,
    RejectionCount,
    TelemetryPoint,
    TelemetryRollup,
)

log = structlog.get_logger(__name__)

KEEP_REJECTED = 10_000
PARTITIONS_AHEAD_DAYS = 3
ROLLUP_LOOKBACK = timedelta(hours=3)


Silenced = Callable[
    [AsyncSession, Sequence[ConnectivityChanged], datetime], Awaitable[list[DomainEvent]]
]


async def mark_silent(
    db: Database, now: datetime | None = None, *, after: Silenced | None = None
) -> list[DomainEvent]:
    """Devices silent longer than their type's timeout go offline ("silence").

    ``after`` acts on the changes in the same transaction (the alarm area raises a
    communication loss for each), so a crash cannot mark a device offline unnoticed.
    """
    now = now or utcnow()
    events: list[DomainEvent] = []
    async with db.write() as session:
        for spec in CATALOGUE.values():
            cutoff = now - timedelta(seconds=spec.silence_timeout_s)
            of_type = asset_queries.id_query(types=[spec.key])
            result = await session.execute(
                update(DeviceStatus)
                .where(
                    DeviceStatus.online.is_(True),
                    DeviceStatus.last_seen_at < cutoff,
                    DeviceStatus.asset_id.in_(of_type),
                )
                .values(online=False, since=now, reason="silence")
                .returning(DeviceStatus.asset_id)
            )
            events += [ConnectivityChanged(a, False, now, "silence") for a in result.scalars()]
        if after is not None and events:
            changes = [e for e in events if isinstance(e, ConnectivityChanged)]
            events += await after(session, changes, now)
    return events


def _hour(db: Database, column: object) -> object:
    if db.is_postgres:
        return func.date_trunc("hour", column)
    # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC.
    return func.strftime("%Y-%m-%d %H:00:00.000000", column)


async def roll_up(db: Database, now: datetime | None = None) -> int:
    """(Re)compute hourly aggregates of the last few complete hours; returns rows written.

    Recomputing a window rather than appending makes late data and re-runs harmless.
    """
    now = now or utcnow()
    end = now.replace(minute=0, second=0, microsecond=0)
    async with db.read() as session:
        latest = (await session.execute(select(func.max(TelemetryRollup.bucket)))).scalar()
        earliest = (await session.execute(select(func.min(TelemetryPoint.ts)))).scalar()
    if earliest is None:
        return 0
    start = (latest - ROLLUP_LOOKBACK) if latest else earliest
    start = max(start, earliest).replace(minute=0, second=0, microsecond=0)
    if start >= end:
        return 0
    bucket = _hour(db, TelemetryPoint.ts).label("bucket")  # type: ignore[attr-defined]
    source = (
        select(
            TelemetryPoint.asset_id,
            TelemetryPoint.key,
            bucket,
            func.count().label("count"),
            func.sum(TelemetryPoint.value).label("sum"),
            func.min(TelemetryPoint.value).label("min"),
            func.max(TelemetryPoint.value).label("max"),
        )
        .where(
            TelemetryPoint.ts >= start,
            TelemetryPoint.ts < end,
            TelemetryPoint.value.is_not(None),
        )
        .group_by(TelemetryPoint.asset_id, TelemetryPoint.key, literal_column("bucket"))
    )
    async with db.write() as session:
        insert = dialect_insert(session, TelemetryRollup).from_select(
            ["asset_id", "key", "bucket", "count", "sum", "min", "max"], source
        )
        stmt = insert.on_conflict_do_update(
            index_elements=["asset_id", "key", "bucket"],
            set_={c: getattr(insert.excluded, c) for c in ("count", "sum", "min", "max")},
        )
        result = await session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Maintenance:
    """What one maintenance run did."""

    partitions_dropped: list[str]
    points_deleted: int
    rollups_written: int
    rollups_deleted: int
    rejected_pruned: int


async def maintain(
    db: Database,
    *,
    raw_days: int,
    rollup_days: int,
    now: datetime | None = None,
) -> Maintenance:
    """Roll up, enforce retention (raw points, rollups), prepare partitions, prune rejects."""
    now = now or utcnow()
    rolled = await roll_up(db, now)
    raw_cutoff = now - timedelta(days=raw_days)
    dropped: list[str] = []
    deleted = 0
    async with db.write() as session:
        if db.is_postgres:
            conn = await session.connection()
            days = [(now + timedelta(days=d)).date() for d in range(PARTITIONS_AHEAD_DAYS)]
            await partitions.create(conn, days)
            dropped = await partitions.drop_before(conn, raw_cutoff.date())
        result = await session.execute(delete(TelemetryPoint).where(TelemetryPoint.ts < raw_cutoff))
        deleted = int(result.rowcount or 0)  # type: ignore[attr-defined]
        result = await session.execute(
            delete(TelemetryRollup).where(
                TelemetryRollup.bucket < now - timedelta(days=rollup_days)
            )
        )
        rollups_deleted = int(result.rowcount or 0)  # type: ignore[attr-defined]
        newest = (await session.execute(select(func.max(RejectedMessage.id)))).scalar() or 0
        result = await session.execute(
            delete(RejectedMessage).where(RejectedMessage.id <= newest - KEEP_REJECTED)
        )
        pruned = int(result.rowcount or 0)  # type: ignore[attr-defined]
        await session.execute(
            delete(RejectionCount).where(RejectionCount.hour < now - timedelta(days=rollup_days))
        )
    return Maintenance(dropped, deleted, rolled, rollups_deleted, pruned)


async def maintain_storage(ctx: Context) -> Maintenance:
    """The scheduled maintenance (:func:`maintain`) with the retention of the settings
    (``BEFFROI_TELEMETRY_RETENTION_DAYS``, ``BEFFROI_ROLLUP_RETENTION_DAYS``), logged."""
    settings = ctx.settings
    done = await maintain(
        ctx.db,
        raw_days=settings.telemetry_retention_days,
        rollup_days=settings.rollup_retention_days,
    )
    log.info(
        "telemetry maintenance",
        partitions_dropped=len(done.partitions_dropped),
        points_deleted=done.points_deleted,
        rollups_written=done.rollups_written,
        rollups_deleted=done.rollups_deleted,
        rejected_pruned=done.rejected_pruned,
    )
    return done


__all__ = ["Maintenance", "maintain", "maintain_storage", "mark_silent", "roll_up"]
