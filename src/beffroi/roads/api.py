"""Routes of the roads area: situations, their signs (authenticated), and the file
export of the DATEX II publication."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import Response

from beffroi.http.deps import Ctx, RowId
from beffroi.roads import export, service
from beffroi.roads.schemas import (
    SignsClear,
    SignsConfirm,
    SignsOut,
    SignsSent,
    SituationClose,
    SituationCreate,
    SituationOut,
    SituationUpdate,
)
from beffroi.roads.signs import DEFAULT_RADIUS_M
from beffroi.roads.situation import SituationType, Status

router = APIRouter(prefix="/roads", tags=["roads"])
XML = "application/xml"


@router.get("/situations")
async def list_situations(
    ctx: Ctx,
    status: Annotated[list[Status], Query(description="Only in these statuses")] = [],  # noqa: B006 - FastAPI reads the default
    type: Annotated[list[SituationType], Query(description="Only of these types")] = [],  # noqa: B006
) -> list[SituationOut]:
    """Works, closures, events and incidents crossing your communes, latest start first."""
    return await service.list_situations(ctx, status, type)


@router.post("/situations", status_code=status.HTTP_201_CREATED)
async def create_situation(ctx: Ctx, body: SituationCreate) -> SituationOut:
    """Record a situation (a line or an area, its period, impact and detour)."""
    return await service.create_situation(ctx, body)


@router.get("/situations/{situation_id}")
async def get_situation(ctx: Ctx, situation_id: RowId) -> SituationOut:
    """One situation."""
    return await service.get_situation(ctx, situation_id)


@router.patch("/situations/{situation_id}")
async def update_situation(ctx: Ctx, situation_id: RowId, body: SituationUpdate) -> SituationOut:
    """Change a planned or active situation, naming the version you read."""
    return await service.update_situation(ctx, situation_id, body)


@router.post("/situations/{situation_id}/end")
async def end_situation(ctx: Ctx, situation_id: RowId, body: SituationClose) -> SituationOut:
    """End an active situation now."""
    return await service.end_situation(ctx, situation_id, body)


@router.post("/situations/{situation_id}/cancel")
async def cancel_situation(ctx: Ctx, situation_id: RowId, body: SituationClose) -> SituationOut:
    """Call a planned or active situation off."""
    return await service.cancel_situation(ctx, situation_id, body)


@router.get("/situations/{situation_id}/signs")
async def situation_signs(
    ctx: Ctx,
    situation_id: RowId,
    within_m: Annotated[
        float, Query(ge=50, le=20_000, description="Signs this near are proposed")
    ] = DEFAULT_RADIUS_M,
) -> SignsOut:
    """The signs near the situation with the text proposed for each, those showing it,
    and (once it is over) those to clear."""
    return await service.signs_of(ctx, situation_id, within_m)


@router.post("/situations/{situation_id}/signs/display")
async def display_on_signs(ctx: Ctx, situation_id: RowId, body: SignsConfirm) -> SignsSent:
    """Show the confirmed texts on these signs until the situation's end."""
    return await service.display(ctx, situation_id, body)


@router.post("/situations/{situation_id}/signs/clear")
async def clear_signs(ctx: Ctx, situation_id: RowId, body: SignsClear) -> SignsSent:
    """Take the situation's text down from its signs."""
    return await service.clear(ctx, situation_id, body)


@router.get("/datex2", responses={200: {"content": {XML: {}}}})
async def datex_file(
    ctx: Ctx,
    planned: Annotated[bool, Query(description="Planned situations too")] = False,
) -> Response:
    """The DATEX II SituationPublication as a file to save (what the public endpoint
    publishes; metropolis-wide, as published)."""
    return Response(
        await export.datex_file(ctx, planned=planned),
        media_type=XML,
        headers={"Content-Disposition": 'attachment; filename="beffroi-datex2-situations.xml"'},
    )
