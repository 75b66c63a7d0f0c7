"""Reading runs: one with its steps, the list of one's scope, a run's timeline."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.context import Context
from beffroi.core.errors import NotFound
from beffroi.core.principal import Permission, Principal
from beffroi.plans.lifecycle import RunState
from beffroi.plans.models import PlanRun, PlanRunEvent, PlanRunStep
from beffroi.plans.schemas import ItemOut, RunEventOut, RunOut, RunStepOut
from beffroi.plans.templates import visible

MAX_RUNS = 200


async def load_run(
    session: AsyncSession, principal: Principal, run_id: int, *, lock: bool = False
) -> PlanRun:
    """A run of the caller's scope (locked for a change when ``lock``), or NotFound."""
    stmt = select(PlanRun).where(PlanRun.id == run_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None or not visible(principal, row.communes):
        raise NotFound(f"plan run {run_id} not found")
    return row


async def steps_of(session: AsyncSession, run_id: int) -> list[PlanRunStep]:
    """A run's steps, in order."""
    stmt = select(PlanRunStep).where(PlanRunStep.run_id == run_id).order_by(PlanRunStep.position)
    return list((await session.execute(stmt)).scalars())


def step_out(step: PlanRunStep) -> RunStepOut:
    """The API form of a run's step."""
    return RunStepOut(
        position=step.position,
        title=step.title,
        kind=step.kind,
        min_level=int(step.spec.get("min_level", 1)),
        state=step.state,
        batch_id=step.batch_id,
        delivery_ids=list(step.delivery_ids),
        items=[ItemOut.model_validate(i) for i in step.items],
        outcome=step.outcome,
        started_at=step.started_at,
        finished_at=step.finished_at,
        finished_by=step.finished_by,
    )


async def run_out(session: AsyncSession, run: PlanRun) -> RunOut:
    """The API form of a run, with its steps."""
    steps = await steps_of(session, run.id)
    return RunOut(
        id=run.id,
        plan_id=run.plan_id,
        plan_name=run.plan_name,
        kind=run.kind,
        communes=run.communes,
        level=run.level,
        state=run.state,
        reason=run.reason,
        started_at=run.started_at,
        started_by=run.started_by,
        decided_at=run.decided_at,
        decided_by=run.decided_by,
        closed_at=run.closed_at,
        closed_by=run.closed_by,
        steps=[step_out(s) for s in steps],
    )


async def get_run(ctx: Context, run_id: int) -> RunOut:
    """One run of the caller's scope, with its steps."""
    ctx.principal.require(Permission.PLAN_READ)
    async with ctx.db.read() as session:
        return await run_out(session, await load_run(session, ctx.principal, run_id))


async def list_runs(ctx: Context, states: list[RunState]) -> list[RunOut]:
    """The newest runs of the caller's scope, at most ``MAX_RUNS`` (``states``: only
    those; none: all)."""
    ctx.principal.require(Permission.PLAN_READ)
    stmt = select(PlanRun).order_by(PlanRun.id.desc()).limit(MAX_RUNS)
    if states:
        stmt = stmt.where(PlanRun.state.in_([s.value for s in states]))
    found: list[PlanRun] = []
    async with ctx.db.read() as session:
        # Scope is "sees all of the run's communes", checked here rather than in SQL: read
        # on, a page at a time, until the newest runs in scope fill the list.
        before: int | None = None
        while len(found) < MAX_RUNS:
            page = stmt if before is None else stmt.where(PlanRun.id < before)
            rows = list((await session.execute(page)).scalars())
            found += [r for r in rows if visible(ctx.principal, r.communes)]
            if len(rows) < MAX_RUNS:
                break
            before = rows[-1].id
        return [await run_out(session, r) for r in found[:MAX_RUNS]]


async def timeline(session: AsyncSession, run_id: int) -> list[RunEventOut]:
    """A run's events, oldest first."""
    stmt = select(PlanRunEvent).where(PlanRunEvent.run_id == run_id).order_by(PlanRunEvent.id)
    return [RunEventOut.model_validate(e) for e in (await session.execute(stmt)).scalars()]
