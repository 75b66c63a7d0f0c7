"""Routes of the crisis plans: plans and notification lists, runs (start, approve or
refuse, tick, skip, close) and their post-event reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from fastapi.responses import Response

from beffroi.http.deps import Ctx, RowId
from beffroi.http.params import enum_list
from beffroi.plans import reading, report, runs, templates
from beffroi.plans.lifecycle import MAX_ITEMS, MAX_STEPS, RunState
from beffroi.plans.schemas import (
    CrisisPlanCreate,
    CrisisPlanOut,
    NotifyListCreate,
    NotifyListOut,
    RunDecision,
    RunOut,
    RunReport,
    RunStart,
)

router = APIRouter(prefix="/plans", tags=["plans"])

Position = Annotated[int, Path(ge=0, lt=MAX_STEPS, description="The step's place, from 0")]
Item = Annotated[int, Path(ge=0, lt=MAX_ITEMS, description="The item's place, from 0")]
CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}


@router.get("")
async def list_plans(ctx: Ctx) -> list[CrisisPlanOut]:
    """The plans within your communes."""
    return await templates.list_plans(ctx)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_plan(ctx: Ctx, body: CrisisPlanCreate) -> CrisisPlanOut:
    """Write a plan: its ordered steps (group commands, checklists, notifications)."""
    return await templates.create_plan(ctx, body)


@router.get("/notify-lists")
async def list_lists(ctx: Ctx) -> list[NotifyListOut]:
    """The notification lists within your communes."""
    return await templates.list_lists(ctx)


@router.post("/notify-lists", status_code=status.HTTP_201_CREATED)
async def create_list(ctx: Ctx, body: NotifyListCreate) -> NotifyListOut:
    """Write a notification list (e-mail addresses, SMS gateway webhooks)."""
    return await templates.create_list(ctx, body)


@router.get("/runs")
async def list_runs(
    ctx: Ctx, states: Annotated[list[RunState], enum_list("state", RunState, "States")]
) -> list[RunOut]:
    """Runs within your communes, newest first."""
    return await reading.list_runs(ctx, states)


@router.get("/runs/{run_id}")
async def get_run(ctx: Ctx, run_id: RowId) -> RunOut:
    """A run and its steps."""
    return await reading.get_run(ctx, run_id)


@router.post("/runs/{run_id}/approve")
async def approve_run(ctx: Ctx, run_id: RowId, body: RunDecision) -> RunOut:
    """Approve a run (a supervisor other than its starter): its steps start."""
    return await runs.approve(ctx, run_id, body)


@router.post("/runs/{run_id}/refuse")
async def refuse_run(ctx: Ctx, run_id: RowId, body: RunDecision) -> RunOut:
    """Refuse a run (a supervisor other than its starter), with a reason."""
    return await runs.refuse(ctx, run_id, body)


@router.post("/runs/{run_id}/close")
async def close_run(ctx: Ctx, run_id: RowId, body: RunDecision) -> RunOut:
    """Close a run; steps not ended are skipped."""
    return await runs.close(ctx, run_id, body)


@router.post("/runs/{run_id}/steps/{position}/items/{item}")
async def tick_item(ctx: Ctx, run_id: RowId, position: Position, item: Item) -> RunOut:
    """Tick an item of a running checklist step."""
    return await runs.tick(ctx, run_id, position, item)


@router.post("/runs/{run_id}/steps/{position}/skip")
async def skip_step(ctx: Ctx, run_id: RowId, position: Position, body: RunDecision) -> RunOut:
    """Skip a step not ended yet, with a reason."""
    return await runs.skip(ctx, run_id, position, body)


@router.get("/runs/{run_id}/report")
async def run_report(ctx: Ctx, run_id: RowId) -> RunReport:
    """The post-event report: timeline, commands and outcomes, work orders, energy."""
    return await report.run_report(ctx, run_id)


@router.get("/runs/{run_id}/report.csv", response_class=Response, responses=CSV)
async def run_report_csv(ctx: Ctx, run_id: RowId) -> Response:
    """The post-event report as CSV."""
    done = await report.run_report(ctx, run_id)
    return Response(
        report.as_csv(done),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="plan-run-{run_id}.csv"'},
    )


@router.get("/{plan_id}")
async def get_plan(ctx: Ctx, plan_id: RowId) -> CrisisPlanOut:
    """A plan."""
    return await templates.get_plan(ctx, plan_id)


@router.post("/{plan_id}/runs", status_code=status.HTTP_201_CREATED)
async def start_run(ctx: Ctx, plan_id: RowId, body: RunStart) -> RunOut:
    """Start a plan at a level: it waits for a second person's approval."""
    return await runs.start(ctx, plan_id, body)
