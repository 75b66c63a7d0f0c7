"""The steps of an approved run, moved as far as they go: each in turn, in order.

A command step sends its group command (``commands.batches``: each target its command,
lifecycle, verification and audit) and ends when every command ended: done if all
succeeded, failed otherwise (failed, rejected, expired, refused or cancelled). A notify
step writes one notification delivery per recipient (the notifier sends them, with its
retries) and ends when they are sent, or failed. A checklist step waits for people. A
failed step does not stop the plan: it is shown failed, and the report tells it.

Steps act as ``plan-run:<id>``, scoped to the run's communes, without a second approval
of their commands: the run's approval was the four-eyes decision on the whole plan.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.commands.batches import create_batch_in
from beffroi.commands.lifecycle import OPEN, BatchState, CommandState
from beffroi.commands.reading import batch_out, load_batch
from beffroi.core import audit
from beffroi.core.context import Context, Runtime
from beffroi.core.errors import BeffroiError
from beffroi.core.principal import ActorKind, Principal, Role
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.core.vocabulary import Domain
from beffroi.notifications import plain
from beffroi.notifications.states import Channel, DeliveryState
from beffroi.plans.journal import commune_of, note
from beffroi.plans.lifecycle import ENDED, MAX_STEPS, PlanStepKind, RunState, StepState
from beffroi.plans.models import NotifyList, PlanRun, PlanRunStep
from beffroi.plans.reading import steps_of
from beffroi.plans.schemas import CommandStep
from beffroi.plans.templates import batch_of

TARGET = "plan_run"
_FAILED_BATCH = frozenset({BatchState.REJECTED, BatchState.EXPIRED, BatchState.CANCELLED})


class _Moved(Exception):
    """The step moved meanwhile (another process advanced it): roll back, look again."""


def run_principal(run: PlanRun) -> Principal:
    """Who the steps of a run act as: the run itself, in its communes."""
    return Principal(
        name=f"plan-run:{run.id}",
        kind=ActorKind.SYSTEM,
        roles=frozenset({Role.SUPERVISOR, Role.OPERATOR}),
        domains=frozenset(Domain),
        communes=None if run.communes is None else frozenset(run.communes),
        via="plan",
    )


def _context(runtime: Runtime, run: PlanRun) -> Context:
    # The run was approved by a second person: its commands are not held for another.
    settings = runtime.settings.model_copy(update={"four_eyes": False})
    return Context(dataclasses.replace(runtime, settings=settings), run_principal(run))


async def advance(runtime: Runtime, run_id: int) -> None:
    """Move a running run's steps as far as they go now."""
    for _ in range(2 * MAX_STEPS + 2):
        if not await _turn(runtime, run_id):
            return


async def running_runs(runtime: Runtime) -> list[int]:
    """Ids of the runs under way."""
    async with runtime.db.read() as session:
        stmt = select(PlanRun.id).where(PlanRun.state == RunState.RUNNING.value)
        return list((await session.execute(stmt)).scalars())


async def _turn(runtime: Runtime, run_id: int) -> bool:
    """One move, if one is due; whether something moved."""
    ended: tuple[StepState, str] | None = None
    async with runtime.db.read() as session:
        run = await session.get(PlanRun, run_id)
        if run is None or run.state != RunState.RUNNING:
            return False
        current = next((s for s in await steps_of(session, run_id) if s.state not in ENDED), None)
        if current is not None and current.state == StepState.RUNNING:
            ended = await _outcome(_context(runtime, run), session, current)
            if ended is None:
                return False
    ctx = _context(runtime, run)
    try:
        if current is None:
            await _finish(ctx, run)
        elif ended is not None:
            await _end(ctx, run, current.position, *ended)
        elif current.spec.get("min_level", 1) > run.level:
            await _end(
                ctx,
                run,
                current.position,
                StepState.SKIPPED,
                "below the run's level",
                StepState.PENDING,
            )
        else:
            await _start(ctx, run, current)
    except _Moved:
        return True
    return current is not None


async def _locked(
    session: AsyncSession, run_id: int, position: int, expected: StepState
) -> tuple[PlanRun, PlanRunStep]:
    run = (
        await session.execute(select(PlanRun).where(PlanRun.id == run_id).with_for_update())
    ).scalar_one()
    step = await session.get(PlanRunStep, (run_id, position))
    if run.state != RunState.RUNNING or step is None or step.state != expected:
        raise _Moved
    return run, step


async def _audit(
    session: AsyncSession, ctx: Context, run: PlanRun, step: PlanRunStep, **details: object
) -> None:
    await audit.record(
        session,
        ctx.principal,
        "plan_run.step",
        target_type=TARGET,
        target_id=str(run.id),
        commune=commune_of(run),
        details={"position": step.position, "kind": step.kind, "state": step.state, **details},
    )


async def _start(ctx: Context, run: PlanRun, step: PlanRunStep) -> None:
    try:
        async with change(ctx, "plan_run.step", target_type=TARGET, target_id=run.id) as uc:
            batch_id = None
            if step.kind == PlanStepKind.COMMAND:
                spec = CommandStep.model_validate(step.spec)
                why = f"plan run {run.id} ({run.plan_name}), step {step.position}: {run.reason}"
                # Before the use case's first statement: it reads the targets on its own.
                batch_id = await create_batch_in(uc, batch_of(spec, why[:2000]))
            run, row = await _locked(uc.session, run.id, step.position, StepState.PENDING)
            now = utcnow()
            row.state = StepState.RUNNING.value
            row.started_at = now
            row.batch_id = batch_id
            if step.kind == PlanStepKind.NOTIFY:
                row.delivery_ids = await _deliveries(uc.session, run, row, now)
            await uc.session.flush()
            event = note(uc.session, run, ctx.principal.name, "step_started", now, row)
            await _audit(uc.session, ctx, run, row, batch_id=batch_id)
            uc.publish(event)
    except BeffroiError as exc:
        await _end(ctx, run, step.position, StepState.FAILED, exc.detail, StepState.PENDING)


async def _deliveries(
    session: AsyncSession, run: PlanRun, step: PlanRunStep, now: datetime
) -> list[int]:
    """One pending delivery per recipient of the step's list, for the notifier to send."""
    found = await session.get(NotifyList, int(step.spec["list_id"]))
    if found is None:
        return []
    payload = {
        "text": f"[{run.plan_name}] {step.spec['message']}",
        "route": found.name,
        "plan": run.plan_name,
        "run_id": run.id,
        "level": run.level,
        "step": step.title,
        "at": now.isoformat(),
    }
    messages = [
        plain.Outgoing(Channel(r["channel"]), r["target"], {**payload, "recipient": r["name"]})
        for r in found.recipients
    ]
    return await plain.add(session, found.name, commune_of(run), messages, now)


async def _outcome(
    ctx: Context, session: AsyncSession, step: PlanRunStep
) -> tuple[StepState, str] | None:
    """How a running step ended, or ``None`` while it goes on."""
    if step.kind == PlanStepKind.NOTIFY:
        counts = await plain.states(session, step.delivery_ids)
        if counts.get(DeliveryState.PENDING, 0):
            return None
        failed = counts.get(DeliveryState.FAILED, 0)
    elif step.kind == PlanStepKind.COMMAND and step.batch_id:
        batch = await batch_out(session, await load_batch(session, ctx, step.batch_id, lock=False))
        counts = {s: n for s, n in batch.counts.items() if n}
        if batch.state not in _FAILED_BATCH and any(CommandState(s) in OPEN for s in counts):
            return None
        failed = sum(n for s, n in counts.items() if s != CommandState.SUCCEEDED)
    else:
        return None
    text = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing to do"
    return (StepState.FAILED if failed else StepState.DONE), text


async def _end(
    ctx: Context,
    run: PlanRun,
    position: int,
    state: StepState,
    outcome: str,
    expected: StepState = StepState.RUNNING,
) -> None:
    async with change(ctx, "plan_run.step", target_type=TARGET, target_id=run.id) as uc:
        run, step = await _locked(uc.session, run.id, position, expected)
        now = utcnow()
        step.state = state.value
        step.outcome = outcome[:500]
        step.finished_at = now
        step.finished_by = ctx.principal.name
        if step.started_at is None:
            step.started_at = now
        event = note(uc.session, run, ctx.principal.name, f"step_{state.value}", now, step)
        uc.audit(
            commune=commune_of(run),
            details={"position": position, "state": state.value, "outcome": step.outcome},
        )
        uc.publish(event)


async def _finish(ctx: Context, run: PlanRun) -> None:
    async with change(ctx, "plan_run.finish", target_type=TARGET, target_id=run.id) as uc:
        locked = (
            await uc.session.execute(select(PlanRun).where(PlanRun.id == run.id).with_for_update())
        ).scalar_one()
        if locked.state != RunState.RUNNING:
            raise _Moved
        locked.state = RunState.FINISHED.value
        event = note(uc.session, locked, ctx.principal.name, "finished", utcnow())
        uc.audit(commune=commune_of(locked), details={"state": locked.state})
        uc.publish(event)
