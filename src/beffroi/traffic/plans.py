"""Timing plans of a controller: listed, checked, created, changed, deleted. Only a plan
the validator (:mod:`beffroi.traffic.policy`) accepts against the controller's
configuration is stored; a change to a plan a timetable names makes a new timetable
version, delivered as any other."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.context import Context
from beffroi.core.errors import Conflict, InvalidInput, NotFound
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import UseCase, change
from beffroi.traffic import reading
from beffroi.traffic.config import from_document
from beffroi.traffic.events import PlanChanged
from beffroi.traffic.models import TrafficConfig, TrafficPlan
from beffroi.traffic.policy import Plan, PlanError, StageSplit, check_plan
from beffroi.traffic.rights import require_planner
from beffroi.traffic.schemas import PlanCheck, PlanIn, PlanOut, PlanProblem
from beffroi.traffic.timetables import plans_in_use, recompile_in


def plan_of(row: TrafficPlan | PlanIn) -> Plan:
    """The pure plan of a stored row or a request body."""
    stages = tuple(
        StageSplit(s["stage"], int(s["split_s"]))
        if isinstance(s, dict)
        else StageSplit(s.stage, s.split_s)
        for s in row.stages
    )
    return Plan(row.number, row.cycle_s, row.offset_s, stages)


def to_out(row: TrafficPlan) -> PlanOut:
    """The API form of a stored plan."""
    return PlanOut(
        controller_id=row.controller_id,
        number=row.number,
        name=row.name,
        cycle_s=row.cycle_s,
        offset_s=row.offset_s,
        stages=row.stages,
        version=row.version,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


async def _problems(session: AsyncSession, controller_id: str, body: PlanIn) -> list[PlanError]:
    config_row = await session.get(TrafficConfig, controller_id)
    if config_row is None:
        raise Conflict(f"traffic controller {controller_id!r} has no configuration yet")
    return check_plan(from_document(config_row.document), plan_of(body))


async def check(ctx: Context, controller_id: str, body: PlanIn) -> PlanCheck:
    """What the validator says of a plan, saved or not (the plan editor's live errors)."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        await reading.controller(session, ctx, controller_id)
        problems = await _problems(session, controller_id, body)
    return PlanCheck(
        valid=not problems,
        problems=[
            PlanProblem(rule=p.rule.value, field=p.field, message=p.message) for p in problems
        ],
    )


async def list_plans(ctx: Context, controller_id: str) -> list[PlanOut]:
    """A controller's plans, by number."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        await reading.controller(session, ctx, controller_id)
        rows = await session.scalars(
            select(TrafficPlan)
            .where(TrafficPlan.controller_id == controller_id)
            .order_by(TrafficPlan.number)
        )
        return [to_out(r) for r in rows]


async def _load(session: AsyncSession, controller_id: str, number: int) -> TrafficPlan:
    row = await session.scalar(
        select(TrafficPlan).where(
            TrafficPlan.controller_id == controller_id, TrafficPlan.number == number
        )
    )
    if row is None:
        raise NotFound(f"traffic controller {controller_id!r} has no plan {number}")
    return row


async def put_plan(ctx: Context, controller_id: str, body: PlanIn) -> PlanOut:
    """Create plan ``body.number`` or change it (naming the version read); refused, with
    every broken rule named, unless valid against the controller's configuration."""
    async with change(
        ctx,
        "traffic_plan.put",
        target_type="asset",
        target_id=controller_id,
        refused_details={"plan": body.number},
    ) as uc:
        require_planner(ctx)
        facts = await reading.controller(uc.session, ctx, controller_id)
        ctx.principal.require_commune(facts.commune)
        problems = await _problems(uc.session, controller_id, body)
        if problems:
            raise InvalidInput([p.as_field_error() for p in problems])
        row = await uc.session.scalar(
            select(TrafficPlan).where(
                TrafficPlan.controller_id == controller_id, TrafficPlan.number == body.number
            )
        )
        stages = [{"stage": s.stage, "split_s": s.split_s} for s in body.stages]
        if row is None:
            row = TrafficPlan(
                controller_id=controller_id,
                number=body.number,
                name=body.name,
                cycle_s=body.cycle_s,
                offset_s=body.offset_s,
                stages=stages,
                updated_by=ctx.principal.name,
            )
            uc.session.add(row)
            action = "created"
        else:
            if body.version != row.version:
                raise Conflict(f"plan version {body.version} is not the one stored ({row.version})")
            row.name, row.cycle_s, row.offset_s, row.stages = (
                body.name,
                body.cycle_s,
                body.offset_s,
                stages,
            )
            row.version += 1
            row.updated_by = ctx.principal.name
            row.updated_at = utcnow()
            action = "updated"
        await uc.session.flush()
        await recompile_in(uc, controller_id)
        _done(uc, row, facts.commune, action)
        return to_out(row)


def _done(uc: UseCase, row: TrafficPlan, commune: str | None, action: str) -> None:
    uc.audit(
        commune=commune,
        details={"plan": row.number, "version": row.version, "cycle_s": row.cycle_s},
    )
    uc.publish(PlanChanged(row.controller_id, row.number, row.version, action, utcnow()))


async def delete_plan(ctx: Context, controller_id: str, number: int) -> None:
    """Delete a plan no timetable or corridor of the controller names."""
    async with change(
        ctx, "traffic_plan.delete", target_type="asset", target_id=controller_id
    ) as uc:
        require_planner(ctx)
        facts = await reading.controller(uc.session, ctx, controller_id)
        ctx.principal.require_commune(facts.commune)
        row = await _load(uc.session, controller_id, number)
        if number in await plans_in_use(uc.session, controller_id):
            raise Conflict(f"plan {number} is named by the controller's timetable")
        await uc.session.delete(row)
        row.version = 0
        _done(uc, row, facts.commune, "deleted")
