"""The vehicles area's scheduled work (declared in :mod:`beffroi.scheduler.registry`)."""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import delete, select

from beffroi.core.context import Context
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.vehicles.models import TrackPoint

log = structlog.get_logger(__name__)
# Points deleted per statement: a month of a large fleet goes in short transactions that
# never hold the gateway's writes for long.
CHUNK = 20_000


async def purge_tracks(ctx: Context) -> int:
    """Delete the track points older than ``BEFFROI_VEHICLES_TRACK_DAYS``; returns how
    many. The latest position of each vehicle stays, however old.

    Retention is a policy the system applies, not a decision: like telemetry's, it is
    counted in the log, not the audit chain."""
    ctx.principal.require(Permission.ASSET_WRITE)
    cutoff = utcnow() - timedelta(days=ctx.settings.vehicles_track_days)
    total = 0
    while True:
        async with ctx.db.write() as session:
            # The time of the CHUNK-th oldest point: up to it, one short delete.
            nth = (
                select(TrackPoint.ts)
                .where(TrackPoint.ts < cutoff)
                .order_by(TrackPoint.ts)
                .offset(CHUNK - 1)
                .limit(1)
            )
            upto = (await session.execute(nth)).scalar_one_or_none()
            last = upto is None
            stmt = delete(TrackPoint).where(TrackPoint.ts < cutoff)
            if upto is not None:
                stmt = stmt.where(TrackPoint.ts <= upto)
            result = await session.execute(stmt)
            total += result.rowcount or 0  # type: ignore[attr-defined]
        if last:
            break
    if total:
        log.info("vehicle track points purged", deleted=total, before=cutoff.isoformat())
    return total
