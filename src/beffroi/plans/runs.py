"""Use cases of a run by people: start a plan (waits for a second person), approve or
refuse it (the four-eyes rule of commands: ``command:approve``, not the starter), tick a
checklist item, skip a step, close the run. Each is one audited transaction; the steps
themselves move in :mod:`progress`."""

from __future__ import annotations

import structlog
from sqlalchemy import select

from beffroi.commands import policy
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.plans import progress
from beffroi.plans.journal import commune_of, note
from beffroi.plans.lifecycle import ENDED, PlanStepKind, RunState, StepState
from beffroi.plans.models import PlanRun, PlanRunStep
from beffroi.plans.reading import get_run, load_run, run_out
from beffroi.plans.schemas import RunDecision, RunOut, RunStart
from beffroi.plans.templates import load_plan

TARGET = "plan_run"
log = structlog.get_logger(__name__)


async def _advance(ctx: Context, run_id: int) -> None:
    """Move the run on now; what fails here is the plans job's to retry (the decision or
    tick itself is committed)."""
    try:
        await progress.advance(ctx.runtime, run_id)
    except Exception:
        log.exception("plan run did not move on", run_id=run_id)


async def start(ctx: Context, plan_id: int, body: RunStart) -> RunOut:
    """Start a plan at a level: a run waiting for a second person's approval."""
    async with change(
        ctx, f"{TARGET}.start", target_type=TARGET, refused_details={"plan_id": plan_id}
    ) as uc:
        ctx.principal.require(Permission.PLAN_RUN)
        plan = await load_plan(uc.session, ctx.principal, plan_id)
        now = utcnow()
        run = PlanRun(
            plan_id=plan.id,
            plan_name=plan.name,
            kind=plan.kind,
            communes=plan.communes,
            level=int(body.level),
            state=RunState.AWAITING_APPROVAL.value,
            reason=body.reason,
            started_at=now,
            started_by=ctx.principal.name,
            started_by_user_id=ctx.principal.user_id,
        )
        uc.session.add(run)
        await uc.session.flush()
        for position, spec in enumerate(plan.steps):
            items = [{"text": t} for t in spec.get("items", [])]
            uc.session.add(
                PlanRunStep(
                    run_id=run.id,
                    position=position,
                    title=spec["title"],
                    kind=spec["kind"],
                    spec=spec,
                    state=StepState.PENDING.value,
                    batch_id=None,
                    delivery_ids=[],
                    items=items,
                )
            )
        event = note(uc.session, run, ctx.principal.name, "started", now, level=run.level)
        await uc.session.flush()
        uc.audit(
            target_id=run.id,
            commune=commune_of(run),
            reason=body.reason,
            details={"plan": plan.name, "plan_version": plan.version, "level": run.level},
        )
        uc.publish(event)
        out = await run_out(uc.session, run)
    return out


async def _decide(ctx: Context, run_id: int, body: RunDecision, *, approve: bool) -> None:
    action = "approve" if approve else "refuse"
    async with change(ctx, f"{TARGET}.{action}", target_type=TARGET, target_id=run_id) as uc:
        if not approve and not body.reason:
            raise InvalidInput(FieldError("reason", "required to refuse a plan"))
        ctx.principal.require(Permission.PLAN_READ)
        run = await load_run(uc.session, ctx.principal, run_id, lock=True)
        policy.may_approve(ctx.principal, run.started_by_user_id, run.started_by)
        if run.state != RunState.AWAITING_APPROVAL:
            raise Conflict(
                f"plan run {run_id} is {run.state}, not awaiting approval",
                current_state=run.state,
            )
        now = utcnow()
        run.state = (RunState.RUNNING if approve else RunState.REFUSED).value
        run.decided_at = now
        run.decided_by = ctx.principal.name
        if not approve:
            run.closed_at = now
            run.closed_by = ctx.principal.name
        event = note(uc.session, run, ctx.principal.name, f"{action}d", now, reason=body.reason)
        uc.audit(commune=commune_of(run), reason=body.reason, details={"state": run.state})
        uc.publish(event)


async def approve(ctx: Context, run_id: int, body: RunDecision) -> RunOut:
    """A supervisor other than the starter lets the plan go: its steps start in order."""
    await _decide(ctx, run_id, body, approve=True)
    await _advance(ctx, run_id)
    return await get_run(ctx, run_id)


async def refuse(ctx: Context, run_id: int, body: RunDecision) -> RunOut:
    """A supervisor other than the starter refuses the plan: nothing was done."""
    await _decide(ctx, run_id, body, approve=False)
    return await get_run(ctx, run_id)


async def tick(ctx: Context, run_id: int, position: int, item: int) -> RunOut:
    """Tick an item of a running checklist step: who and when are kept; the last item
    ticked ends the step and the next ones start."""
    async with change(ctx, f"{TARGET}.tick", target_type=TARGET, target_id=run_id) as uc:
        ctx.principal.require(Permission.PLAN_RUN)
        run = await load_run(uc.session, ctx.principal, run_id, lock=True)
        step = await uc.session.get(PlanRunStep, (run.id, position))
        if step is None:
            raise NotFound(f"step {position} of plan run {run_id} not found")
        if step.kind != PlanStepKind.CHECKLIST or step.state != StepState.RUNNING:
            raise Conflict(
                f"step {position} is a {step.kind} step, {step.state}: nothing to tick",
                current_state=step.state,
            )
        if item >= len(step.items):
            raise InvalidInput(FieldError("item", f"step {position} has {len(step.items)} items"))
        if step.items[item].get("done_by"):
            raise Conflict(f"item {item} is already ticked", current_state="done")
        now = utcnow()
        items = [dict(i) for i in step.items]
        items[item] |= {"done_by": ctx.principal.name, "done_at": now.isoformat()}
        step.items = items
        if all(i.get("done_by") for i in items):
            step.state = StepState.DONE.value
            step.finished_at = now
            step.finished_by = ctx.principal.name
        event = note(
            uc.session, run, ctx.principal.name, "ticked", now, step, item=items[item]["text"]
        )
        uc.audit(
            commune=commune_of(run),
            details={"position": position, "item": item, "step_state": step.state},
        )
        uc.publish(event)
    await _advance(ctx, run_id)
    return await get_run(ctx, run_id)


async def skip(ctx: Context, run_id: int, position: int, body: RunDecision) -> RunOut:
    """Skip a step not ended yet (a checklist nobody will finish, a command step whose
    batch is left to itself); the next ones start."""
    async with change(ctx, f"{TARGET}.skip", target_type=TARGET, target_id=run_id) as uc:
        if not body.reason:
            raise InvalidInput(FieldError("reason", "required to skip a step"))
        ctx.principal.require(Permission.PLAN_RUN)
        run = await load_run(uc.session, ctx.principal, run_id, lock=True)
        step = await uc.session.get(PlanRunStep, (run.id, position))
        if step is None:
            raise NotFound(f"step {position} of plan run {run_id} not found")
        if run.state != RunState.RUNNING or step.state in ENDED:
            raise Conflict(f"step {position} is {step.state}", current_state=step.state)
        now = utcnow()
        step.state = StepState.SKIPPED.value
        step.outcome = body.reason
        step.finished_at = now
        step.finished_by = ctx.principal.name
        event = note(uc.session, run, ctx.principal.name, "skipped", now, step, reason=body.reason)
        uc.audit(commune=commune_of(run), reason=body.reason, details={"position": position})
        uc.publish(event)
    await _advance(ctx, run_id)
    return await get_run(ctx, run_id)


async def close(ctx: Context, run_id: int, body: RunDecision) -> RunOut:
    """Close a running or finished run: steps not ended are skipped (batches under way go
    on by their own lifecycle), and the report covers the run up to now."""
    async with change(ctx, f"{TARGET}.close", target_type=TARGET, target_id=run_id) as uc:
        ctx.principal.require(Permission.PLAN_RUN)
        run = await load_run(uc.session, ctx.principal, run_id, lock=True)
        if run.state not in (RunState.RUNNING, RunState.FINISHED):
            raise Conflict(f"plan run {run_id} is {run.state}", current_state=run.state)
        now = utcnow()
        left = (
            await uc.session.execute(
                select(PlanRunStep).where(
                    PlanRunStep.run_id == run.id,
                    PlanRunStep.state.in_([StepState.PENDING.value, StepState.RUNNING.value]),
                )
            )
        ).scalars()
        for step in left:
            step.state = StepState.SKIPPED.value
            step.outcome = "run closed"
            step.finished_at = now
            step.finished_by = ctx.principal.name
        run.state = RunState.CLOSED.value
        run.closed_at = now
        run.closed_by = ctx.principal.name
        event = note(uc.session, run, ctx.principal.name, "closed", now, reason=body.reason)
        uc.audit(commune=commune_of(run), reason=body.reason, details={"state": run.state})
        uc.publish(event)
        out = await run_out(uc.session, run)
    return out
