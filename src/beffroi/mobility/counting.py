"""The traffic counts table kept up to date from telemetry: incremental (from the newest
bucket written, less a look-back for late readings) and idempotent (a range is deleted
and written again in one transaction), the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as assets
from beffroi.core.context import Context
from beffroi.core.time import utcnow
from beffroi.mobility.aggregation import KEY_PATTERNS, PERIODS_MIN, aggregate, bucket_of
from beffroi.mobility.models import TrafficCount
from beffroi.telemetry import queries as telemetry

COUNTED_TYPES = ("traffic_counter", "traffic_controller")
LOOK_BACK = timedelta(hours=1)  # readings arriving later than this are not counted
CATCH_UP = timedelta(hours=24)  # how far back a first run (or one after a long stop) starts


async def refresh(ctx: Context, now: datetime | None = None) -> int:
    """Aggregate the complete buckets since the last run (less the look-back) up to now:
    the rows written."""
    now = now or utcnow()
    async with ctx.db.write() as session:
        newest = (
            await session.execute(
                select(func.max(TrafficCount.bucket)).where(TrafficCount.period_min == 6)
            )
        ).scalar()
        # Never more than a day in one run: after a long stop, the last day is caught up.
        start = now - CATCH_UP
        since = bucket_of(max(newest - LOOK_BACK, start) if newest else start, 60)
        until = bucket_of(now, 6)
        if until <= since:
            return 0
        ids = assets.id_query(types=COUNTED_TYPES)
        points = await telemetry.numbers_like(session, ids, KEY_PATTERNS, since, until)
        communes = {
            d.id: d.commune for t in COUNTED_TYPES for d in await assets.described(session, t)
        }
        rows = []
        for period in PERIODS_MIN:
            # Only complete buckets: the running hour is written once it is over.
            end = bucket_of(now, period)
            await session.execute(
                delete(TrafficCount).where(
                    TrafficCount.period_min == period,
                    TrafficCount.bucket >= since,
                    TrafficCount.bucket < end,
                )
            )
            rows += [
                {
                    "asset_id": c.asset_id,
                    "lane": c.lane,
                    "period_min": c.period_min,
                    "bucket": c.bucket,
                    "commune_code": communes[c.asset_id],
                    "vehicles": c.vehicles,
                    "flow_vph": c.flow_vph,
                    "occupancy_pct": c.occupancy_pct,
                    "speed_kmh": c.speed_kmh,
                    "samples": c.samples,
                }
                for c in aggregate(points, period)
                if c.bucket < end and c.asset_id in communes
            ]
        if rows:
            await session.execute(insert(TrafficCount), rows)
        await _purge(session, ctx, now)
    return len(rows)


async def _purge(session: AsyncSession, ctx: Context, now: datetime) -> None:
    """Counts past their keeping period: 6-minute ones first, hourly ones long after."""
    keep = {
        6: ctx.settings.mobility_counts_6min_days,
        60: ctx.settings.mobility_counts_hourly_days,
    }
    for period, days in keep.items():
        await session.execute(
            delete(TrafficCount).where(
                TrafficCount.period_min == period, TrafficCount.bucket < now - timedelta(days=days)
            )
        )
