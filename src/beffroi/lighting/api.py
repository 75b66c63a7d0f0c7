"""Routes of the lighting area: programs, calendars, assignments, overrides, why,
schedules."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from beffroi.core.dates import Day, Instant
from beffroi.http.deps import Ctx, RowId
from beffroi.lighting import preview, service
from beffroi.lighting.override import OverrideState
from beffroi.lighting.schemas import (
    AssignmentCreate,
    AssignmentOut,
    AssignmentUpdate,
    CalendarCreate,
    CalendarDays,
    CalendarOut,
    CalendarUpdate,
    CompileResult,
    OverrideCreate,
    OverrideDecision,
    OverrideOut,
    PreviewRequest,
    ProgramCreate,
    ProgramOut,
    ProgramPreview,
    ProgramUpdate,
    ScheduleOut,
    ScheduleSummary,
    Why,
)

router = APIRouter(prefix="/lighting", tags=["lighting"])


@router.get("/programs")
async def list_programs(ctx: Ctx) -> list[ProgramOut]:
    """Programs in your scope: your communes' and the metropolis-wide ones."""
    return await service.list_programs(ctx)


@router.post("/programs", status_code=status.HTTP_201_CREATED)
async def create_program(ctx: Ctx, body: ProgramCreate) -> ProgramOut:
    """Create a program; its steps must run in order on every lighting day."""
    return await service.create_program(ctx, body)


@router.get("/programs/{program_id}")
async def get_program(ctx: Ctx, program_id: RowId) -> ProgramOut:
    """One program."""
    return await service.get_program(ctx, program_id)


@router.patch("/programs/{program_id}")
async def update_program(ctx: Ctx, program_id: RowId, body: ProgramUpdate) -> ProgramOut:
    """Change a program, naming the version you read."""
    return await service.update_program(ctx, program_id, body)


@router.delete("/programs/{program_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_program(ctx: Ctx, program_id: RowId) -> None:
    """Delete a program no calendar names."""
    await service.delete_program(ctx, program_id)


@router.post("/preview")
async def preview_program(ctx: Ctx, body: PreviewRequest) -> ProgramPreview:
    """The level steps (saved or not) ask for through one lighting day, with its sunset
    and sunrise and that day's timing errors: what the program editor draws."""
    return await preview.preview_program(ctx, body)


@router.get("/calendars")
async def list_calendars(ctx: Ctx) -> list[CalendarOut]:
    """Calendars in your scope: your communes' and the metropolis-wide ones."""
    return await service.list_calendars(ctx)


@router.post("/calendars", status_code=status.HTTP_201_CREATED)
async def create_calendar(ctx: Ctx, body: CalendarCreate) -> CalendarOut:
    """Create a calendar: rules tried in order, the first matching a lighting day wins."""
    return await service.create_calendar(ctx, body)


@router.get("/calendars/{calendar_id}")
async def get_calendar(ctx: Ctx, calendar_id: RowId) -> CalendarOut:
    """One calendar."""
    return await service.get_calendar(ctx, calendar_id)


@router.get("/calendars/{calendar_id}/days")
async def calendar_days(
    ctx: Ctx,
    calendar_id: RowId,
    start: Annotated[Day, Query(description="The first lighting day")],
    days: Annotated[int, Query(ge=1, le=400, description="How many lighting days")] = 31,
) -> CalendarDays:
    """Which program the calendar runs on each lighting day from ``start``, and the rule
    that chose it: the calendar's month or year view."""
    return await preview.calendar_days(ctx, calendar_id, start, days)


@router.patch("/calendars/{calendar_id}")
async def update_calendar(ctx: Ctx, calendar_id: RowId, body: CalendarUpdate) -> CalendarOut:
    """Change a calendar, naming the version you read."""
    return await service.update_calendar(ctx, calendar_id, body)


@router.delete("/calendars/{calendar_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_calendar(ctx: Ctx, calendar_id: RowId) -> None:
    """Delete a calendar nothing is assigned."""
    await service.delete_calendar(ctx, calendar_id)


@router.get("/assignments")
async def list_assignments(ctx: Ctx) -> list[AssignmentOut]:
    """Assignments in your scope: your communes' and the metropolis-wide ones."""
    return await service.list_assignments(ctx)


@router.post("/assignments", status_code=status.HTTP_201_CREATED)
async def create_assignment(ctx: Ctx, body: AssignmentCreate) -> AssignmentOut:
    """Give a cabinet, group, polygon, commune or the metropolis a calendar."""
    return await service.create_assignment(ctx, body)


@router.get("/assignments/{assignment_id}")
async def get_assignment(ctx: Ctx, assignment_id: RowId) -> AssignmentOut:
    """One assignment."""
    return await service.get_assignment(ctx, assignment_id)


@router.patch("/assignments/{assignment_id}")
async def update_assignment(
    ctx: Ctx, assignment_id: RowId, body: AssignmentUpdate
) -> AssignmentOut:
    """Give the target another calendar, or move the polygon."""
    return await service.update_assignment(ctx, assignment_id, body)


@router.delete("/assignments/{assignment_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_assignment(ctx: Ctx, assignment_id: RowId) -> None:
    """Remove an assignment: the target falls back on the next most specific one."""
    await service.delete_assignment(ctx, assignment_id)


@router.get("/overrides")
async def list_overrides(
    ctx: Ctx,
    state: Annotated[OverrideState | None, Query(description="Only those in this state")] = None,
) -> list[OverrideOut]:
    """Overrides in your scope, newest first, with their state now."""
    return await service.list_overrides(ctx, state)


@router.post("/overrides", status_code=status.HTTP_201_CREATED)
async def create_override(ctx: Ctx, body: OverrideCreate) -> OverrideOut:
    """Impose a level on lights for a while (it ends by itself at ``ends_at``); lights out
    over a whole commune or more waits for a second person's approval."""
    return await service.create_override(ctx, body)


@router.get("/overrides/{override_id}")
async def get_override(ctx: Ctx, override_id: RowId) -> OverrideOut:
    """One override."""
    return await service.get_override(ctx, override_id)


@router.post("/overrides/{override_id}/approve")
async def approve_override(ctx: Ctx, override_id: RowId, body: OverrideDecision) -> OverrideOut:
    """Let a critical override apply (someone other than its author)."""
    return await service.approve_override(ctx, override_id, body)


@router.post("/overrides/{override_id}/refuse")
async def refuse_override(ctx: Ctx, override_id: RowId, body: OverrideDecision) -> OverrideOut:
    """Refuse a critical override, saying why."""
    return await service.refuse_override(ctx, override_id, body)


@router.post("/overrides/{override_id}/cancel")
async def cancel_override(ctx: Ctx, override_id: RowId, body: OverrideDecision) -> OverrideOut:
    """End an override now (or drop it before it starts): the programs take over."""
    return await service.cancel_override(ctx, override_id, body)


@router.get("/assets/{asset_id}/why")
async def why(
    ctx: Ctx,
    asset_id: str,
    at: Annotated[Instant | None, Query(description="When; default now")] = None,
) -> Why:
    """Why this light (or cabinet) is asked for its level: the assignment, the calendar
    rule that matched the lighting day, the program and its steps that day."""
    return await service.why(ctx, asset_id, at)


@router.get("/schedules")
async def list_schedules(
    ctx: Ctx,
    behind: Annotated[
        bool | None,
        Query(description="true: only cabinets whose controller runs an older version"),
    ] = None,
) -> list[ScheduleSummary]:
    """The compiled schedules of the cabinets in your scope, with the version each
    controller acknowledged (the one in force)."""
    return await service.list_schedules(ctx, behind=behind)


@router.post("/schedules/compile")
async def compile_schedules(ctx: Ctx) -> CompileResult:
    """Recompile the schedules of the cabinets in your scope; says whose version moved."""
    return CompileResult(changed=await service.compile_schedules(ctx))


@router.get("/schedules/{asset_id}")
async def get_schedule(ctx: Ctx, asset_id: str) -> ScheduleOut:
    """A cabinet's compiled schedule, as its controller receives it."""
    return await service.get_schedule(ctx, asset_id)
