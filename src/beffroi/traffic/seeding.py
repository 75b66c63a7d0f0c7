"""Setting up many controllers at once (a generated fleet, a migration from another
central system): configurations, plans and timetables, all checked by the same rules as
one by one, written in one transaction, audited once, timetables then delivered."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from beffroi.core.context import Context
from beffroi.core.errors import FieldError, InvalidInput
from beffroi.core.usecase import change
from beffroi.traffic import reading
from beffroi.traffic.config import check_config
from beffroi.traffic.configuring import config_of
from beffroi.traffic.models import TrafficConfig, TrafficPlan, TrafficTimetable
from beffroi.traffic.plans import plan_of
from beffroi.traffic.policy import check_plan
from beffroi.traffic.rights import require_planner
from beffroi.traffic.schemas import ConfigIn, PlanIn, TimetableIn
from beffroi.traffic.timetable import SwitchPoint, check_timetable
from beffroi.traffic.timetables import store_document


@dataclass(frozen=True, slots=True)
class Setup:
    """What one controller is given: configuration, plans, timetable."""

    config: ConfigIn
    plans: list[PlanIn]
    timetable: TimetableIn


def check_setup(controller_id: str, setup: Setup) -> list[FieldError]:
    """Every rule the setup breaks, each error prefixed with the controller's id."""
    config = config_of(setup.config)
    errors = check_config(config)
    if not errors:
        for plan in setup.plans:
            errors += [
                FieldError(f"plans[{plan.number}].{e.field}", e.message)
                for e in check_plan(config, plan_of(plan))
            ]
    points = [SwitchPoint(tuple(e.days), e.start, e.plan) for e in setup.timetable.entries]
    errors += check_timetable(points, {p.number for p in setup.plans})
    return [FieldError(f"{controller_id}.{e.field}", e.message) for e in errors]


async def seed(ctx: Context, setups: Mapping[str, Setup]) -> list[str]:
    """Give the controllers named their setup, all or none; those already configured are
    left alone. Returns the controllers set up (their timetables are then delivered)."""
    async with change(ctx, "traffic_setup.seed", target_type="asset") as uc:
        require_planner(ctx)
        errors = [e for cid, setup in sorted(setups.items()) for e in check_setup(cid, setup)]
        if errors:
            raise InvalidInput(errors)
        facts = await reading.controllers(uc.session, ctx, sorted(setups))
        for commune in {f.commune for f in facts.values()}:
            ctx.principal.require_commune(commune)
        done = set(
            (
                await uc.session.scalars(
                    select(TrafficConfig.controller_id).where(
                        TrafficConfig.controller_id.in_(sorted(setups))
                    )
                )
            ).all()
        )
        todo = sorted(set(setups) - done)
        name = ctx.principal.name
        for cid in todo:
            setup = setups[cid]
            uc.session.add(
                TrafficConfig(
                    controller_id=cid,
                    document=config_of(setup.config).as_document(),
                    updated_by=name,
                )
            )
            plans = [
                TrafficPlan(
                    controller_id=cid,
                    number=p.number,
                    name=p.name,
                    cycle_s=p.cycle_s,
                    offset_s=p.offset_s,
                    stages=[{"stage": s.stage, "split_s": s.split_s} for s in p.stages],
                    updated_by=name,
                )
                for p in setup.plans
            ]
            uc.session.add_all(plans)
            entries = [
                {"days": sorted(set(e.days)), "start": e.start.strftime("%H:%M"), "plan": e.plan}
                for e in setup.timetable.entries
            ]
            timetable = TrafficTimetable(
                controller_id=cid,
                entries=entries,
                version=0,
                content_hash="",
                document={},
                updated_by=name,
            )
            uc.session.add(timetable)
            store_document(uc, timetable, entries, plans)
        await uc.session.flush()
        uc.audit(details={"controllers": len(todo), "already": len(done)})
    return todo
