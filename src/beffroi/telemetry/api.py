"""Routes of telemetry: HTTP device ingest, time series, latest values, rejections."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from beffroi import metrics
from beffroi.accounts.principal import Permission
from beffroi.assets.api import AssetStatuses, AssetTypes, Communes
from beffroi.assets.service import AssetFilter, BBox
from beffroi.catalogue import CATALOGUE
from beffroi.dates import Instant
from beffroi.devices.topics import Channel
from beffroi.errors import FieldError, InvalidInput, NotAuthenticated
from beffroi.telemetry import service
from beffroi.telemetry.http_ingest import HttpIngest
from beffroi.telemetry.schemas import (
    AggregateOut,
    BucketOut,
    IngestOut,
    LatestPage,
    PointOut,
    RejectedOut,
    RejectionsOut,
    SeriesOut,
    StateOut,
)
from beffroi.timeutil import utcnow
from beffroi.web.deps import Ctx, RuntimeDep
from beffroi.web.params import choice_list, comma_list

devices_router = APIRouter(prefix="/devices", tags=["device ingest"])
router = APIRouter(tags=["telemetry"])
metrics_router = APIRouter(tags=["operations"])

MAX_BODY = 256 * 1024
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


def _ingest(request: Request, runtime: RuntimeDep) -> HttpIngest:
    ingest: HttpIngest | None = getattr(request.app.state, "http_ingest", None)
    if ingest is None:
        ingest = request.app.state.http_ingest = HttpIngest(runtime)
    return ingest


async def _device_message(
    request: Request, runtime: RuntimeDep, device_id: str, channel: Channel, authorization: str
) -> IngestOut:
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise NotAuthenticated("send the device token as 'Authorization: Bearer <token>'")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InvalidInput(FieldError("body", f"larger than {MAX_BODY} bytes"))
    peer = request.client.host if request.client else None
    points = await _ingest(request, runtime).ingest(
        device_id, secret.strip(), channel, body, peer=peer
    )
    return IngestOut(points=points)


BODY_DOC = {"requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}}


@devices_router.post(
    "/{device_id}/telemetry", status_code=status.HTTP_202_ACCEPTED, openapi_extra=BODY_DOC
)
async def post_telemetry(
    device_id: str,
    request: Request,
    runtime: RuntimeDep,
    authorization: Annotated[str, Header(description="Bearer <device token>")],
) -> IngestOut:
    """Telemetry from a device without MQTT (same payloads as the MQTT API)."""
    return await _device_message(request, runtime, device_id, Channel.TELEMETRY, authorization)


@devices_router.post(
    "/{device_id}/events", status_code=status.HTTP_202_ACCEPTED, openapi_extra=BODY_DOC
)
async def post_event(
    device_id: str,
    request: Request,
    runtime: RuntimeDep,
    authorization: Annotated[str, Header(description="Bearer <device token>")],
) -> IngestOut:
    """A fault event from a device without MQTT."""
    return await _device_message(request, runtime, device_id, Channel.EVENTS, authorization)


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
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
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


@metrics_router.get("/metrics", include_in_schema=True)
async def get_metrics(ctx: Ctx) -> Response:
    """Prometheus metrics of this process (bearer token of an account allowed to read them)."""
    ctx.principal.require(Permission.METRICS_READ)
    return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)
