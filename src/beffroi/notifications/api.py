"""Routes of notifications: routing rules, their test, and the delivery record."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from beffroi.http.deps import Ctx
from beffroi.http.params import PageLimit
from beffroi.notifications import delivery_record, routes, trials
from beffroi.notifications.schemas import DeliveryOut, RouteCreate, RouteOut, RouteUpdate
from beffroi.notifications.states import DeliveryState

router = APIRouter(tags=["notifications"])

RouteId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Notification route id")]


@router.post("/notification-routes", status_code=status.HTTP_201_CREATED)
async def create_route(ctx: Ctx, body: RouteCreate) -> RouteOut:
    """Create a route: which alarm history entries (severity, type, commune, domain,
    action, time window) go to a webhook or to e-mail addresses."""
    return await routes.create_route(ctx, body)


@router.get("/notification-routes")
async def list_routes(ctx: Ctx) -> list[RouteOut]:
    """The routes within your scope."""
    return await routes.list_routes(ctx)


@router.get("/notification-routes/{route_id}")
async def get_route(ctx: Ctx, route_id: RouteId) -> RouteOut:
    """One route."""
    return await routes.get_route(ctx, route_id)


@router.patch("/notification-routes/{route_id}")
async def update_route(ctx: Ctx, route_id: RouteId, body: RouteUpdate) -> RouteOut:
    """Change a route; send the ``version`` you read."""
    return await routes.update_route(ctx, route_id, body)


@router.delete("/notification-routes/{route_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_route(ctx: Ctx, route_id: RouteId) -> Response:
    """Delete a route; its delivery record stays."""
    await routes.delete_route(ctx, route_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/notification-routes/{route_id}/test")
async def test_route(ctx: Ctx, route_id: RouteId) -> DeliveryOut:
    """Send a test notification through the route now and return its delivery record."""
    return await trials.send_test(ctx, route_id)


@router.get("/notification-deliveries")
async def list_deliveries(
    ctx: Ctx,
    alarm_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    route_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    state: DeliveryState | None = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: PageLimit = 100,
) -> list[DeliveryOut]:
    """Deliveries about alarms in your communes, newest first; ``before_id`` pages on."""
    return await delivery_record.list_deliveries(
        ctx, alarm_id=alarm_id, route_id=route_id, state=state, before_id=before_id, limit=limit
    )
