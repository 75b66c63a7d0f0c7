"""Routes of the vehicles area: live positions, a vehicle's track, the nearest crews for
an intervention, and the winter service's salting routes with their completion."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from beffroi.core.dates import Instant
from beffroi.http.deps import Ctx, RowId
from beffroi.vehicles import crews, positions, routes
from beffroi.vehicles.schemas import (
    NearestCrews,
    RouteCompletion,
    SaltingRouteCreate,
    SaltingRouteList,
    SaltingRouteOut,
    SaltingRouteUpdate,
    VehicleList,
    VehicleTrack,
)

router = APIRouter(tags=["vehicles"])
VehicleId = Annotated[str, Path(min_length=1, max_length=64, description="The vehicle's asset id")]


@router.get("/vehicles")
async def live_positions(ctx: Ctx) -> VehicleList:
    """Where the vehicles of your communes last reported being."""
    return await positions.live(ctx)


@router.get("/vehicles/{asset_id}/track")
async def vehicle_track(
    ctx: Ctx,
    asset_id: VehicleId,
    since: Annotated[Instant | None, Query(description="From (an hour before until)")] = None,
    until: Annotated[Instant | None, Query(description="To (now)")] = None,
) -> VehicleTrack:
    """One vehicle's track over a period (at most 7 days), a GeoJSON LineString."""
    return await positions.track(ctx, asset_id, since, until)


@router.get("/interventions/{intervention_id}/nearest-crews")
async def nearest_crews(ctx: Ctx, intervention_id: RowId) -> NearestCrews:
    """The available teams nearest to the intervention, by their vehicles' positions."""
    return await crews.nearest(ctx, intervention_id)


@router.get("/salting-routes")
async def list_routes(
    ctx: Ctx,
    since: Annotated[
        Instant | None, Query(description="Give each route's completion since then")
    ] = None,
) -> SaltingRouteList:
    """The salting routes of your communes, by level then name."""
    return await routes.listed(ctx, since)


@router.post("/salting-routes", status_code=status.HTTP_201_CREATED)
async def create_route(ctx: Ctx, body: SaltingRouteCreate) -> SaltingRouteOut:
    """Record a salting route."""
    return await routes.create(ctx, body)


@router.get("/salting-routes/{salting_route_id}")
async def get_route(ctx: Ctx, salting_route_id: RowId) -> SaltingRouteOut:
    """One salting route."""
    return await routes.get(ctx, salting_route_id)


@router.patch("/salting-routes/{salting_route_id}")
async def update_route(
    ctx: Ctx, salting_route_id: RowId, body: SaltingRouteUpdate
) -> SaltingRouteOut:
    """Change a salting route."""
    return await routes.update(ctx, salting_route_id, body)


@router.delete("/salting-routes/{salting_route_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_route(ctx: Ctx, salting_route_id: RowId) -> Response:
    """Delete a salting route."""
    await routes.delete(ctx, salting_route_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/salting-routes/{salting_route_id}/completion")
async def route_completion(
    ctx: Ctx,
    salting_route_id: RowId,
    since: Annotated[Instant | None, Query(description="From (12 hours before until)")] = None,
    until: Annotated[Instant | None, Query(description="To (now)")] = None,
) -> RouteCompletion:
    """How much of the route the salting trucks' tracks covered."""
    return await routes.completion(ctx, salting_route_id, since, until)
