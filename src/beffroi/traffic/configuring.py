"""Reading and changing a controller's configuration (signal groups, detectors, stages,
intergreen matrix). A change that would leave one of its stored plans invalid is refused,
naming the plan: plans are only ever valid against the configuration in force."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.traffic import reading
from beffroi.traffic.config import (
    ControllerConfig,
    Detector,
    SignalGroup,
    Stage,
    check_config,
    from_document,
)
from beffroi.traffic.models import TrafficConfig, TrafficPlan
from beffroi.traffic.plans import plan_of
from beffroi.traffic.policy import check_plan
from beffroi.traffic.rights import require_planner
from beffroi.traffic.schemas import ConfigIn, ConfigOut


def config_of(body: ConfigIn) -> ControllerConfig:
    """The pure configuration of a request body."""
    return ControllerConfig(
        groups=tuple(SignalGroup(g.name, g.kind, g.min_green_s) for g in body.groups),
        detectors=tuple(Detector(d.name, d.group) for d in body.detectors),
        stages=tuple(Stage(s.name, tuple(s.groups)) for s in body.stages),
        intergreens={(i.from_, i.to): i.seconds for i in body.intergreens},
    )


def _out(row: TrafficConfig) -> ConfigOut:
    return ConfigOut(
        controller_id=row.controller_id,
        version=row.version,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        **row.document,
    )


async def load_config(session: AsyncSession, controller_id: str) -> ControllerConfig | None:
    """The configuration stored for ``controller_id``, if any."""
    row = await session.get(TrafficConfig, controller_id)
    return None if row is None else from_document(row.document)


async def get_config(ctx: Context, controller_id: str) -> ConfigOut:
    """A controller's configuration."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        await reading.controller(session, ctx, controller_id)
        row = await session.get(TrafficConfig, controller_id)
        if row is None:
            raise NotFound(f"traffic controller {controller_id!r} has no configuration")
        return _out(row)


async def put_config(ctx: Context, controller_id: str, body: ConfigIn) -> ConfigOut:
    """Store a controller's configuration, checked whole; refused when a stored plan would
    no longer be valid against it, or when ``version`` is not the one stored."""
    async with change(
        ctx, "traffic_config.update", target_type="asset", target_id=controller_id
    ) as uc:
        require_planner(ctx)
        config = config_of(body)
        errors = check_config(config)
        if errors:
            raise InvalidInput(errors)
        facts = await reading.controller(uc.session, ctx, controller_id)
        ctx.principal.require_commune(facts.commune)
        row = await uc.session.get(TrafficConfig, controller_id)
        if row is not None and body.version != row.version:
            raise Conflict(
                f"configuration version {body.version} is not the one stored ({row.version})"
            )
        plans = (
            await uc.session.scalars(
                select(TrafficPlan).where(TrafficPlan.controller_id == controller_id)
            )
        ).all()
        broken = [
            FieldError("stages", f"plan {p.number}: {e.message}")
            for p in plans
            for e in check_plan(config, plan_of(p))
        ]
        if broken:
            raise InvalidInput(broken, "stored plans would become invalid: " + str(broken[0]))
        document = config.as_document()
        if row is None:
            row = TrafficConfig(
                controller_id=controller_id, document=document, updated_by=ctx.principal.name
            )
            uc.session.add(row)
        else:
            row.document = document
            row.version += 1
            row.updated_by = ctx.principal.name
            row.updated_at = utcnow()
        await uc.session.flush()
        uc.audit(commune=facts.commune, details={"version": row.version})
        return _out(row)
