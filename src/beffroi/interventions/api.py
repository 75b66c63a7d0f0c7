"""Routes of the interventions area: teams, work orders, the field queue, policies, KPIs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from beffroi.core.dates import Instant
from beffroi.http.deps import Ctx, RowId
from beffroi.http.params import PageLimit, comma_list, enum_list
from beffroi.interventions import fieldwork, kpis, moves, opening, photos, policies, reading, teams
from beffroi.interventions.lifecycle import Category, Status
from beffroi.interventions.schemas import (
    Assignment,
    InterventionCreate,
    InterventionDetail,
    InterventionOut,
    InterventionPage,
    InterventionUpdate,
    KpiGrouping,
    KpiReport,
    Links,
    MemberAdd,
    NoteCreate,
    NoteOut,
    PhotoOut,
    PolicyCreate,
    PolicyOut,
    PolicyUpdate,
    QueueItem,
    StatusChange,
    TeamCreate,
    TeamOut,
    TeamUpdate,
)

router = APIRouter(tags=["interventions"])


# --- teams ---------------------------------------------------------------------------------


@router.get("/teams")
async def list_teams(ctx: Ctx) -> list[TeamOut]:
    """The field teams in your scope."""
    return await teams.list_teams(ctx)


@router.post("/teams", status_code=status.HTTP_201_CREATED)
async def create_team(ctx: Ctx, body: TeamCreate) -> TeamOut:
    """Create a team: its categories of work and the communes it covers."""
    return await teams.create_team(ctx, body)


@router.get("/teams/{team_id}")
async def get_team(ctx: Ctx, team_id: RowId) -> TeamOut:
    """One team with its members."""
    return await teams.get_team(ctx, team_id)


@router.patch("/teams/{team_id}")
async def update_team(ctx: Ctx, team_id: RowId, body: TeamUpdate) -> TeamOut:
    """Rename a team or change its categories or communes."""
    return await teams.update_team(ctx, team_id, body)


@router.delete("/teams/{team_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_team(ctx: Ctx, team_id: RowId) -> None:
    """Delete a team; its interventions lose their team."""
    await teams.delete_team(ctx, team_id)


@router.post("/teams/{team_id}/members", status_code=status.HTTP_201_CREATED)
async def add_member(ctx: Ctx, team_id: RowId, body: MemberAdd) -> TeamOut:
    """Put a person in a team."""
    return await teams.add_member(ctx, team_id, body.user_id)


@router.delete("/teams/{team_id}/members/{user_id}")
async def remove_member(ctx: Ctx, team_id: RowId, user_id: RowId) -> TeamOut:
    """Take a person out of a team."""
    return await teams.remove_member(ctx, team_id, user_id)


# --- interventions -------------------------------------------------------------------------


@router.post("/interventions", status_code=status.HTTP_201_CREATED)
async def create_intervention(ctx: Ctx, body: InterventionCreate) -> InterventionOut:
    """Open a work order; its due time follows from the service level of its priority."""
    return await opening.create_intervention(ctx, body)


@router.get("/interventions")
async def list_interventions(
    ctx: Ctx,
    statuses: Annotated[list[Status], enum_list("status", Status, "Statuses")],
    categories: Annotated[list[Category], enum_list("category", Category, "Categories")],
    commune: Annotated[
        str | None, Query(description="Commune codes or names, comma-separated")
    ] = None,
    team_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    asset_id: Annotated[str | None, Query(max_length=64)] = None,
    mine: bool = False,
    open_: Annotated[bool, Query(alias="open", description="Only work still to do")] = False,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: PageLimit = 100,
) -> InterventionPage:
    """Interventions in your scope, newest first (a field agent: their teams' only)."""
    return await reading.list_interventions(
        ctx,
        reading.InterventionFilter(
            statuses=statuses,
            categories=categories,
            communes=comma_list(commune),
            team_id=team_id,
            asset_id=asset_id,
            mine=mine,
            open_only=open_,
            cursor=cursor,
            limit=limit,
        ),
    )


@router.get("/interventions/queue")
async def queue(ctx: Ctx, mine: bool = False) -> list[QueueItem]:
    """Your teams' open work, most urgent first, in a shape for a phone screen."""
    return await reading.queue(ctx, mine=mine)


@router.get("/interventions/{intervention_id}")
async def get_intervention(ctx: Ctx, intervention_id: RowId) -> InterventionDetail:
    """One intervention with its links, notes, photos and history."""
    return await reading.get_intervention(ctx, intervention_id)


@router.patch("/interventions/{intervention_id}")
async def update_intervention(
    ctx: Ctx, intervention_id: RowId, body: InterventionUpdate
) -> InterventionOut:
    """Retitle, describe or reprioritise open work (a new priority moves the due time)."""
    return await opening.update_intervention(ctx, intervention_id, body)


@router.post("/interventions/{intervention_id}/assign")
async def assign(ctx: Ctx, intervention_id: RowId, body: Assignment) -> InterventionOut:
    """Hand the intervention to a team and, optionally, one of its members."""
    return await moves.assign(ctx, intervention_id, body)


@router.post("/interventions/{intervention_id}/status")
async def change_status(ctx: Ctx, intervention_id: RowId, body: StatusChange) -> InterventionOut:
    """Start, hold, resolve (optionally clearing the linked alarms once the repair is
    confirmed), close, reopen or cancel. A move not allowed from the current status is
    refused (409) naming it."""
    return await moves.change_status(ctx, intervention_id, body)


@router.post("/interventions/{intervention_id}/notes", status_code=status.HTTP_201_CREATED)
async def add_note(ctx: Ctx, intervention_id: RowId, body: NoteCreate) -> NoteOut:
    """Write a note."""
    return await fieldwork.add_note(ctx, intervention_id, body)


@router.post("/interventions/{intervention_id}/links")
async def add_links(ctx: Ctx, intervention_id: RowId, body: Links) -> InterventionDetail:
    """Link alarms or assets."""
    return await fieldwork.add_links(ctx, intervention_id, body)


_PHOTO_BODY = {
    "requestBody": {
        "required": True,
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in photos.ACCEPTED},
    }
}


@router.post(
    "/interventions/{intervention_id}/photos",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_PHOTO_BODY,
)
async def add_photo(ctx: Ctx, intervention_id: RowId, request: Request) -> PhotoOut:
    """Upload a photo as the raw body (image/jpeg, image/png or image/webp)."""
    limit = ctx.settings.intervention_photo_max_bytes
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            # Enough to know it is too big; the rest is never held in memory.
            break
    return await fieldwork.add_photo(
        ctx, intervention_id, request.headers.get("content-type"), bytes(data)
    )


@router.get(
    "/interventions/{intervention_id}/photos/{photo_id}",
    response_class=Response,
    responses={200: {"content": {t: {} for t in photos.ACCEPTED}}},
)
async def get_photo(
    ctx: Ctx, intervention_id: RowId, photo_id: Annotated[int, Path(ge=1, le=2**63 - 1)]
) -> Response:
    """A photo's bytes."""
    content_type, data = await fieldwork.get_photo(ctx, intervention_id, photo_id)
    return Response(
        data, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"}
    )


# --- policies ------------------------------------------------------------------------------


@router.get("/intervention-policies")
async def list_policies(ctx: Ctx) -> list[PolicyOut]:
    """Which alarm types open work orders on their own."""
    return await policies.list_policies(ctx)


@router.post("/intervention-policies", status_code=status.HTTP_201_CREATED)
async def create_policy(ctx: Ctx, body: PolicyCreate) -> PolicyOut:
    """Make alarms of a type open work orders (one policy per type)."""
    return await policies.create_policy(ctx, body)


@router.get("/intervention-policies/{policy_id}")
async def get_policy(ctx: Ctx, policy_id: RowId) -> PolicyOut:
    """One policy."""
    return await policies.get_policy(ctx, policy_id)


@router.patch("/intervention-policies/{policy_id}")
async def update_policy(ctx: Ctx, policy_id: RowId, body: PolicyUpdate) -> PolicyOut:
    """Change a policy."""
    return await policies.update_policy(ctx, policy_id, body)


@router.delete("/intervention-policies/{policy_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_policy(ctx: Ctx, policy_id: RowId) -> None:
    """Delete a policy."""
    await policies.delete_policy(ctx, policy_id)


# --- KPIs ----------------------------------------------------------------------------------


@router.get("/kpis", response_model_by_alias=True)
async def get_kpis(
    ctx: Ctx,
    from_: Annotated[Instant, Query(alias="from", description="Start (inclusive), with offset")],
    to: Annotated[Instant, Query(description="End (exclusive), with offset")],
    by: KpiGrouping | None = None,
) -> KpiReport:
    """Mean time to acknowledge and to repair, SLA compliance and counts over a period,
    in total and by category, commune or team."""
    return await kpis.kpis(ctx, from_, to, by)
