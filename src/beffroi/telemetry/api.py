"""Routes of telemetry: time series, latest values, rejections."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from beffroi.assets.api import AssetStatuses, AssetTypes, Communes
from beffroi.assets.filters import AssetFilter, BBox
from beffroi.catalogue import CATALOGUE
from beffroi.core.dates import Instant
from beffroi.core.time import utcnow
from beffroi.http.deps import Ctx
from beffroi.http.params import PageLimit, choice_list, comma_list
from beffroi.telemetry import service
from beffroi.telemetry.schemas import (
    AggregateOut,
    BucketOut,
    LatestPage,
    PointOut,
    RejectedOut,
    RejectionsOut,
    SeriesOut,
    StateOut,
)

router = APIRouter(tags=["telemetry"])

# Every telemetry key of the catalogue; an indexed one ("detector_{n}_count") stands for
# its concrete names, which its pattern matches.
_KEYS = list(dict.fromkeys(k.key for spec in CATALOGUE.values() for k in spec.telemetry))
_KEY_PATTERNS = list(
    dict.fromkeys(k.matcher().pattern[1:-1] for spec in CATALOGUE.values() for k in spec.telemetry)
)


def _known_key(key: str) -> bool:
    return any(spec.telemetry_key(key) is not None for spec in CATALOGUE.values())


TelemetryKeys = Annotated[
    list[str],
    choice_list("keys", _KEYS, "Telemetry keys", known=_known_key, patterns=_KEY_PATTERNS),
]


def _state(state: service.AssetState) -> StateOut:
    return StateOut(
        asset_id=state.asset_id,
        online=state.online,
        since=state.since,
        reason=state.reason,
        last_seen_at=state.last_seen_at,
        firmware=state.firmware,
        values={k: PointOut(ts=p.ts, value=p.value) for k, p in sorted(state.values.items())},
    )


def _range(
    since: datetime | None, until: datetime | None, default: timedelta
) -> tuple[datetime, datetime]:
    end = until or utcnow()
    return since or end - default, end


@router.get("/assets/{asset_id}/telemetry")
async def get_series(
    ctx: Ctx,
    asset_id: str,
    key: Annotated[str, Query(max_length=64)],
    since: Instant | None = None,
    until: Instant | None = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> SeriesOut:
    """Raw values of one key (default: the last 24 hours)."""
    start, end = _range(since, until, timedelta(days=1))
    points = await service.raw_series(ctx, asset_id, key, start, end, limit)
    return SeriesOut(
        asset_id=asset_id, key=key, points=[PointOut(ts=p.ts, value=p.value) for p in points]
    )


@router.get("/assets/{asset_id}/telemetry/aggregate")
async def get_aggregate(
    ctx: Ctx,
    asset_id: str,
    key: Annotated[str, Query(max_length=64)],
    bucket: service.BucketSize = service.BucketSize.HOUR,
    since: Instant | None = None,
    until: Instant | None = None,
) -> AggregateOut:
    """Count, min, max, mean and sum of a numeric key per window (default: 7 days)."""
    start, end = _range(since, until, timedelta(days=7))
    buckets = await service.aggregate(ctx, asset_id, key, bucket, start, end)
    return AggregateOut(
        asset_id=asset_id,
        key=key,
        bucket=bucket.value,
        buckets=[
            BucketOut(start=b.start, count=b.count, min=b.min, max=b.max, avg=b.avg, sum=b.sum)
            for b in buckets
        ],
    )


@router.get("/assets/{asset_id}/state")
async def get_state(ctx: Ctx, asset_id: str) -> StateOut:
    """Latest values and connectivity of one asset."""
    return _state(await service.asset_state(ctx, asset_id))


@router.get("/telemetry/latest")
async def get_latest(
    ctx: Ctx,
    types: AssetTypes,
    statuses: AssetStatuses,
    keys: TelemetryKeys,
    commune: Communes = None,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 5000,
) -> LatestPage:
    """Latest values of many assets in one call (all streetlights of a commune, say)."""
    f = AssetFilter(
        types=types,
        communes=comma_list(commune),
        statuses=statuses,
        bbox=BBox.parse(bbox) if bbox else None,
        cursor=cursor,
        limit=limit,
    )
    states, next_cursor = await service.latest(ctx, f, keys)
    return LatestPage(items=[_state(s) for s in states], next_cursor=next_cursor)


@router.get("/ingest/rejections")
async def get_rejections(
    ctx: Ctx,
    hours: Annotated[int, Query(ge=1, le=24 * 90)] = 24,
    limit: PageLimit = 100,
    asset_id: Annotated[
        str | None, Query(max_length=64, description="Only what this device's topics carried")
    ] = None,
) -> RejectionsOut:
    """Messages the gateways rejected: counts by reason and the most recent ones."""
    report = await service.rejections(ctx, hours, limit, asset_id)
    return RejectionsOut(
        hours=hours,
        counts=report.counts,
        recent=[RejectedOut.model_validate(r) for r in report.recent],
    )
