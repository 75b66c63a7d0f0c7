"""Operations routes of every process: Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from beffroi import metrics
from beffroi.core.principal import Permission
from beffroi.http.deps import Ctx

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=True)
async def get_metrics(ctx: Ctx) -> Response:
    """Prometheus metrics of this process (bearer token of an account allowed to read them)."""
    ctx.principal.require(Permission.METRICS_READ)
    return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)
