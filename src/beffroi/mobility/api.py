"""Routes of the mobility area: priority approaches, priority requests and the delay they
saved, traffic counts (JSON and CSV)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from beffroi.core.dates import Instant
from beffroi.http.deps import Ctx, RowId
from beffroi.mobility import approaches, reading
from beffroi.mobility.schemas import (
    ApproachCreate,
    ApproachOut,
    ApproachUpdate,
    CountOut,
    DelaySaved,
    PriorityRequestOut,
)

router = APIRouter(prefix="/mobility", tags=["mobility"])

AssetQ = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
SinceQ = Annotated[Instant | None, Query(description="From (included); default a day back")]
UntilQ = Annotated[Instant | None, Query(description="Until (excluded); default now")]
CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}


@router.get("/approaches")
async def list_approaches(ctx: Ctx, controller_id: AssetQ = None) -> list[ApproachOut]:
    """Priority approaches in your scope, of one controller if named."""
    return await approaches.list_approaches(ctx, controller_id)


@router.post("/approaches", status_code=status.HTTP_201_CREATED)
async def create_approach(ctx: Ctx, body: ApproachCreate) -> ApproachOut:
    """Add an approach to a controller with bus priority (asset:write, traffic domain)."""
    return await approaches.create_approach(ctx, body)


@router.get("/approaches/{approach_id}")
async def get_approach(ctx: Ctx, approach_id: RowId) -> ApproachOut:
    """One approach."""
    return await approaches.get_approach(ctx, approach_id)


@router.patch("/approaches/{approach_id}")
async def update_approach(ctx: Ctx, approach_id: RowId, body: ApproachUpdate) -> ApproachOut:
    """Change an approach, naming the version you read."""
    return await approaches.update_approach(ctx, approach_id, body)


@router.delete("/approaches/{approach_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_approach(ctx: Ctx, approach_id: RowId) -> None:
    """Delete an approach and its requests' record."""
    await approaches.delete_approach(ctx, approach_id)


@router.get("/requests")
async def list_requests(
    ctx: Ctx,
    controller_id: AssetQ = None,
    line: Annotated[str | None, Query(max_length=16)] = None,
    since: SinceQ = None,
    until: UntilQ = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[PriorityRequestOut]:
    """Bus priority requests in your scope, newest first, with their outcomes."""
    return await reading.list_requests(
        ctx, reading.RequestFilter(controller_id, line, since, until, limit)
    )


@router.get("/delay-saved")
async def delay_saved(ctx: Ctx, since: SinceQ = None, until: UntilQ = None) -> list[DelaySaved]:
    """Per intersection and line: requests, granted, and the delay saved (estimate:
    docs/mobility.md); default the last seven days."""
    return await reading.delay_saved(ctx, since, until)


def _counts(
    asset_id: AssetQ = None,
    commune: Annotated[str | None, Query(max_length=64)] = None,
    period: Annotated[int, Query(ge=6, le=60, description="Minutes: 6 or 60")] = 60,
    since: SinceQ = None,
    until: UntilQ = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 5000,
) -> reading.CountFilter:
    return reading.CountFilter(asset_id, commune, period, since, until, limit)


CountQuery = Annotated[reading.CountFilter, Depends(_counts)]


@router.get("/counts")
async def list_counts(ctx: Ctx, q: CountQuery) -> list[CountOut]:
    """Traffic per lane (a counter's lane, a controller's detector; lane 0: the total)
    per 6-minute or hourly period: vehicles, flow (veh/h), occupancy, speed."""
    return await reading.list_counts(ctx, q)


@router.get("/counts.csv", response_class=Response, responses=CSV)
async def counts_csv(ctx: Ctx, q: CountQuery) -> Response:
    """The same counts as CSV."""
    rows = await reading.list_counts(ctx, q)
    return Response(
        reading.counts_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="traffic-counts.csv"'},
    )
