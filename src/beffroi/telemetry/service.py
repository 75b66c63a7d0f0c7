"""Reading what devices reported: raw series, aggregates, latest values, connectivity."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, Integer, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as asset_queries
from beffroi.assets.filters import AssetFilter
from beffroi.assets.lifecycle import AssetStatus
from beffroi.assets.reading import get_asset, scoped_asset_ids
from beffroi.catalogue import CATALOGUE
from beffroi.core.context import Context
from beffroi.core.errors import FieldError, InvalidInput, PermissionDenied
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.db.lists import among, parts
from beffroi.telemetry.models import (
    DeviceStatus,
    LatestValue,
    RejectedMessage,
    RejectionCount,
    TelemetryPoint,
    TelemetryRollup,
)

MAX_RAW_POINTS = 100_000
MAX_BUCKETS = 20_000


class BucketSize(StrEnum):
    """Aggregation windows."""

    MINUTE = "1m"
    QUARTER = "15m"
    HOUR = "1h"
    DAY = "1d"

    @property
    def seconds(self) -> int:
        """Length of the window."""
        return {"1m": 60, "15m": 900, "1h": 3600, "1d": 86400}[self.value]


@dataclass(frozen=True, slots=True)
class Point:
    """One stored value."""

    ts: datetime
    value: float | str | None


@dataclass(frozen=True, slots=True)
class Bucket:
    """Aggregates of one window; ``start`` is its first instant."""

    start: datetime
    count: int
    min: float
    max: float
    sum: float

    @property
    def avg(self) -> float:
        """Mean of the window."""
        return self.sum / self.count if self.count else 0.0


def _check_range(since: datetime, until: datetime) -> None:
    if since >= until:
        raise InvalidInput(FieldError("since", "must be before until"))


def _check_key(asset_type: str, key: str) -> None:
    """A key the asset's type does not report is refused, not read as an empty series."""
    spec = CATALOGUE.get(asset_type)
    if spec is not None and spec.telemetry_key(key) is None:
        allowed = ", ".join(k.key for k in spec.telemetry)
        raise InvalidInput(
            FieldError("key", f"{asset_type} has no telemetry key {key[:64]!r}; allowed: {allowed}")
        )


async def raw_series(
    ctx: Context, asset_id: str, key: str, since: datetime, until: datetime, limit: int = 10_000
) -> list[Point]:
    """Stored values of one key of one asset in ``[since, until)``, oldest first."""
    asset = await get_asset(ctx, asset_id)  # scope check: NotFound outside it
    _check_key(asset.type, key)
    _check_range(since, until)
    stmt = (
        select(TelemetryPoint.ts, TelemetryPoint.value, TelemetryPoint.text)
        .where(
            TelemetryPoint.asset_id == asset_id,
            TelemetryPoint.key == key,
            TelemetryPoint.ts >= since,
            TelemetryPoint.ts < until,
        )
        .order_by(TelemetryPoint.ts)
        .limit(min(limit, MAX_RAW_POINTS))
    )
    async with ctx.db.read() as session:
        rows = (await session.execute(stmt)).all()
    return [Point(r.ts, r.text if r.text is not None else r.value) for r in rows]


def _window_start(postgres: bool, size: int) -> Any:
    """SQL for the epoch second at which a point's window starts (UTC-aligned)."""
    if postgres:
        epoch = cast(func.floor(func.extract("epoch", TelemetryPoint.ts)), Integer)
        return cast(func.floor(epoch / float(size)), Integer) * size
    # Floor division (SQLAlchemy 2 renders "/" as true division); epochs are positive.
    return cast(func.strftime("%s", TelemetryPoint.ts), Integer) // size * size


async def _sql_buckets(
    session: AsyncSession, asset_id: str, key: str, since: datetime, until: datetime, size: int
) -> list[Bucket]:
    postgres = session.get_bind().dialect.name == "postgresql"
    start = _window_start(postgres, size).label("start")
    stmt = (
        select(
            start,
            func.count().label("n"),
            func.min(TelemetryPoint.value).label("min"),
            func.max(TelemetryPoint.value).label("max"),
            cast(func.sum(TelemetryPoint.value), Float).label("sum"),
        )
        .where(
            TelemetryPoint.asset_id == asset_id,
            TelemetryPoint.key == key,
            TelemetryPoint.ts >= since,
            TelemetryPoint.ts < until,
            TelemetryPoint.value.is_not(None),
        )
        .group_by(start)
        .order_by(start)
        .limit(MAX_BUCKETS)
    )
    rows = (await session.execute(stmt)).all()
    return [
        Bucket(datetime.fromtimestamp(int(r.start), since.tzinfo), r.n, r.min, r.max, r.sum)
        for r in rows
    ]


async def _rollup_hours(
    session: AsyncSession, asset_id: str, key: str, since: datetime, until: datetime
) -> list[Bucket]:
    rows = (
        await session.execute(
            select(TelemetryRollup)
            .where(
                TelemetryRollup.asset_id == asset_id,
                TelemetryRollup.key == key,
                TelemetryRollup.bucket >= since,
                TelemetryRollup.bucket < until,
            )
            .order_by(TelemetryRollup.bucket)
        )
    ).scalars()
    return [Bucket(r.bucket, r.count, r.min, r.max, r.sum) for r in rows]


def _merge(hours: Sequence[Bucket], start_of: Any) -> list[Bucket]:
    groups: dict[datetime, list[Bucket]] = defaultdict(list)
    for hour in hours:
        groups[start_of(hour.start)].append(hour)
    return [
        Bucket(
            start,
            sum(b.count for b in group),
            min(b.min for b in group),
            max(b.max for b in group),
            sum(b.sum for b in group),
        )
        for start, group in sorted(groups.items())
    ]


async def aggregate(
    ctx: Context,
    asset_id: str,
    key: str,
    size: BucketSize,
    since: datetime,
    until: datetime,
) -> list[Bucket]:
    """Count, min, max, sum and mean of a numeric key per window.

    Minutes and hours are UTC-aligned; days are the city's local days (midnight in its
    time zone). Data older than the raw retention comes from the hourly rollups.
    """
    asset = await get_asset(ctx, asset_id)
    _check_key(asset.type, key)
    _check_range(since, until)
    if (until - since).total_seconds() / size.seconds > MAX_BUCKETS:
        raise InvalidInput(FieldError("bucket", f"more than {MAX_BUCKETS} windows; widen it"))
    raw_from = utcnow() - timedelta(days=ctx.settings.telemetry_retention_days)
    zone = ctx.settings.zone
    async with ctx.db.read() as session:
        if size in (BucketSize.MINUTE, BucketSize.QUARTER):
            return await _sql_buckets(session, asset_id, key, since, until, size.seconds)
        hours = await _rollup_hours(session, asset_id, key, since, min(until, raw_from))
        if until > raw_from:
            hours += await _sql_buckets(session, asset_id, key, max(since, raw_from), until, 3600)
    if size is BucketSize.HOUR:
        return hours

    def local_midnight(ts: datetime) -> datetime:
        local = ts.astimezone(zone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(ts.tzinfo)

    return _merge(hours, local_midnight)


@dataclass(frozen=True, slots=True)
class AssetState:
    """What is known now of an asset: latest values and connectivity."""

    asset_id: str
    values: dict[str, Point]
    online: bool | None
    since: datetime | None
    reason: str | None
    last_seen_at: datetime | None
    firmware: str | None


async def latest(
    ctx: Context, f: AssetFilter, keys: Sequence[str] = ()
) -> tuple[list[AssetState], str | None]:
    """Latest values and connectivity of many assets at once (a page of ``f``)."""
    ctx.principal.require(Permission.ASSET_READ)
    ids, cursor = await scoped_asset_ids(ctx, f)
    if not ids:
        return [], cursor
    values: dict[str, dict[str, Point]] = defaultdict(dict)
    status: dict[str, DeviceStatus] = {}
    async with ctx.db.read() as session:
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            stmt = select(LatestValue).where(LatestValue.asset_id.in_(chunk))
            if keys:
                stmt = stmt.where(LatestValue.key.in_(list(keys)))
            for value in (await session.execute(stmt)).scalars():
                stored = value.text if value.text is not None else value.value
                values[value.asset_id][value.key] = Point(value.ts, stored)
            of_chunk = select(DeviceStatus).where(DeviceStatus.asset_id.in_(chunk))
            for row in (await session.execute(of_chunk)).scalars():
                status[row.asset_id] = row
    out = []
    for asset_id in ids:
        st = status.get(asset_id)
        out.append(
            AssetState(
                asset_id,
                values.get(asset_id, {}),
                st.online if st else None,
                st.since if st else None,
                st.reason if st else None,
                st.last_seen_at if st else None,
                st.firmware if st else None,
            )
        )
    return out, cursor


async def asset_state(ctx: Context, asset_id: str) -> AssetState:
    """Latest values and connectivity of one asset."""
    await get_asset(ctx, asset_id)
    every_status = list(AssetStatus)  # a decommissioned asset still has a last known state
    states, _ = await latest(ctx, AssetFilter(ids=[asset_id], statuses=every_status, limit=1))
    return states[0]


@dataclass(frozen=True, slots=True)
class RejectionReport:
    """Recent rejected messages and counts by reason over a period."""

    counts: dict[str, int]
    recent: list[RejectedMessage]


async def rejections(
    ctx: Context, hours: int = 24, limit: int = 100, asset_id: str | None = None
) -> RejectionReport:
    """What the gateways rejected lately: metropolis-wide, or of one asset the caller sees
    (counts by reason then count that asset's kept messages only)."""
    ctx.principal.require(Permission.INGEST_READ)
    if asset_id is None and not ctx.principal.all_communes:
        raise PermissionDenied("rejected messages are not tied to a commune: metropolis scope")
    since = utcnow() - timedelta(hours=hours)
    if asset_id is not None:
        await get_asset(ctx, asset_id)  # scope check: NotFound outside it
    async with ctx.db.read() as session:
        recent_query = (
            select(RejectedMessage)
            .where(asset_queries.shown_clause(ctx.principal, RejectedMessage.asset_id))
            .order_by(RejectedMessage.id.desc())
            .limit(limit)
        )
        if asset_id is not None:
            recent_query = recent_query.where(
                RejectedMessage.asset_id == asset_id, RejectedMessage.received_at >= since
            )
            recent = list((await session.execute(recent_query)).scalars())
            counts: dict[str, int] = {}
            for row in recent:
                counts[row.reason] = counts.get(row.reason, 0) + 1
            return RejectionReport(counts, recent)
        totals = (
            await session.execute(
                select(RejectionCount.reason, func.sum(RejectionCount.count))
                .where(RejectionCount.hour >= since.replace(minute=0, second=0, microsecond=0))
                .group_by(RejectionCount.reason)
            )
        ).all()
        recent = list((await session.execute(recent_query)).scalars())
    return RejectionReport({r: int(n) for r, n in totals}, recent)


async def online_routes(session: AsyncSession, asset_ids: Sequence[str]) -> dict[str, str | None]:
    """Which of these devices are online now, each with the field gateway it speaks
    through (``None``: directly). For the command dispatcher."""
    routes: dict[str, str | None] = {}
    for part in parts(session, sorted(set(asset_ids))):
        rows = await session.execute(
            select(DeviceStatus.asset_id, DeviceStatus.via).where(
                among(session, DeviceStatus.asset_id, part), DeviceStatus.online
            )
        )
        routes.update({row.asset_id: row.via for row in rows})
    return routes
