"""Routes of the traffic area: controllers' configurations, plans, timetables, plans
imposed by hand, corridors (green waves)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from beffroi.core.errors import FieldError, InvalidInput
from beffroi.http.deps import Ctx, RowId
from beffroi.traffic import configuring, corridors, manual, overview, plans, timetables
from beffroi.traffic.schemas import (
    ConfigIn,
    ConfigOut,
    ControllerSummary,
    CorridorApply,
    CorridorIn,
    CorridorOut,
    ManualPlanIn,
    ManualPlanOut,
    PlanCheck,
    PlanIn,
    PlanOut,
    Reason,
    TimetableIn,
    TimetableOut,
)

router = APIRouter(prefix="/traffic", tags=["traffic"])

ControllerId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$", description="Asset id")
]
PlanNumber = Annotated[int, Path(ge=1, le=255, description="Plan number")]


@router.get("/controllers")
async def list_controllers(ctx: Ctx) -> list[ControllerSummary]:
    """The traffic signal controllers in your scope and where their plans stand."""
    return await overview.list_controllers(ctx)


@router.get("/controllers/{controller_id}/config")
async def get_config(ctx: Ctx, controller_id: ControllerId) -> ConfigOut:
    """A controller's signal groups, detectors, stages and intergreen matrix."""
    return await configuring.get_config(ctx, controller_id)


@router.put("/controllers/{controller_id}/config")
async def put_config(ctx: Ctx, controller_id: ControllerId, body: ConfigIn) -> ConfigOut:
    """Store a controller's configuration, checked whole (naming the version read)."""
    return await configuring.put_config(ctx, controller_id, body)


@router.get("/controllers/{controller_id}/plans")
async def list_plans(ctx: Ctx, controller_id: ControllerId) -> list[PlanOut]:
    """A controller's timing plans."""
    return await plans.list_plans(ctx, controller_id)


@router.post("/controllers/{controller_id}/plans/check")
async def check_plan(ctx: Ctx, controller_id: ControllerId, body: PlanIn) -> PlanCheck:
    """What the validator says of a plan, without saving it (the editor's errors)."""
    return await plans.check(ctx, controller_id, body)


@router.put("/controllers/{controller_id}/plans/{number}")
async def put_plan(
    ctx: Ctx, controller_id: ControllerId, number: PlanNumber, body: PlanIn
) -> PlanOut:
    """Create or change plan ``number``; refused with every broken rule named."""
    if body.number != number:
        raise InvalidInput(FieldError("number", f"the path names plan {number}"))
    return await plans.put_plan(ctx, controller_id, body)


@router.delete(
    "/controllers/{controller_id}/plans/{number}", status_code=status.HTTP_204_NO_CONTENT
)
async def delete_plan(ctx: Ctx, controller_id: ControllerId, number: PlanNumber) -> None:
    """Delete a plan the controller's timetable does not name."""
    await plans.delete_plan(ctx, controller_id, number)


@router.get("/timetables")
async def list_timetables(
    ctx: Ctx,
    behind: Annotated[bool | None, Query(description="Only controllers behind (or not)")] = None,
) -> list[TimetableOut]:
    """The controllers' timetables and whether each controller runs the current version."""
    return await timetables.list_timetables(ctx, behind=behind)


@router.get("/controllers/{controller_id}/timetable")
async def get_timetable(ctx: Ctx, controller_id: ControllerId) -> TimetableOut:
    """A controller's timetable, the plan in force now and the next switch."""
    return await timetables.get_timetable(ctx, controller_id)


@router.put("/controllers/{controller_id}/timetable")
async def put_timetable(ctx: Ctx, controller_id: ControllerId, body: TimetableIn) -> TimetableOut:
    """Replace a controller's timetable; delivered to it as soon as it is stored."""
    return await timetables.put_timetable(ctx, controller_id, body)


@router.get("/manual-plans")
async def list_manual_plans(
    ctx: Ctx,
    active: Annotated[bool | None, Query(description="Only running selections (or not)")] = None,
) -> list[ManualPlanOut]:
    """Plans imposed by hand, newest first."""
    return await manual.list_selections(ctx, active=active)


@router.post("/controllers/{controller_id}/manual-plan", status_code=status.HTTP_201_CREATED)
async def select_plan(ctx: Ctx, controller_id: ControllerId, body: ManualPlanIn) -> ManualPlanOut:
    """Impose a plan until a time; the controller returns to its timetable by itself."""
    return await manual.select_plan(ctx, controller_id, body)


@router.post("/manual-plans/{selection_id}/end")
async def end_selection(
    ctx: Ctx, selection_id: RowId, reason: Annotated[Reason, Query()]
) -> ManualPlanOut:
    """End a plan imposed by hand now: the controller resumes its timetable."""
    return await manual.end_selection(ctx, selection_id, reason)


@router.get("/corridors")
async def list_corridors(ctx: Ctx) -> list[CorridorOut]:
    """Corridors (green waves) in your scope, with their offsets."""
    return await corridors.list_corridors(ctx)


@router.post("/corridors", status_code=status.HTTP_201_CREATED)
async def create_corridor(ctx: Ctx, body: CorridorIn) -> CorridorOut:
    """Create a corridor: intersections in driving order, design speed, common cycle."""
    return await corridors.save_corridor(ctx, body)


@router.get("/corridors/{corridor_id}")
async def get_corridor(ctx: Ctx, corridor_id: RowId) -> CorridorOut:
    """One corridor and its offsets."""
    return await corridors.get_corridor(ctx, corridor_id)


@router.put("/corridors/{corridor_id}")
async def update_corridor(ctx: Ctx, corridor_id: RowId, body: CorridorIn) -> CorridorOut:
    """Change a corridor, naming the version read."""
    return await corridors.save_corridor(ctx, body, corridor_id)


@router.delete("/corridors/{corridor_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_corridor(ctx: Ctx, corridor_id: RowId) -> None:
    """Delete a corridor."""
    await corridors.delete_corridor(ctx, corridor_id)


@router.post("/corridors/{corridor_id}/apply")
async def apply_corridor(ctx: Ctx, corridor_id: RowId, body: CorridorApply) -> CorridorOut:
    """Send the corridor's offsets to all its controllers as one command batch."""
    return await corridors.apply_corridor(ctx, corridor_id, body)
