"""Plans imposed by hand on a controller, with an end time.

Imposing a plan is a command (``set_plan`` with ``until``), so it takes what any command
takes (``command:send`` and, for an operator, the traffic domain) and goes through the
command machinery (approval, delivery, verification). The controller is told the end
and returns to its timetable by itself then, whether or not it still hears the hub; the
hub's job (:func:`close_ended`) only notes it. Ending one early sends
``resume_timetable``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.commands.schemas import CommandCreate
from beffroi.commands.single import create_in
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.traffic import reading
from beffroi.traffic.events import ManualPlanChanged
from beffroi.traffic.models import TrafficManualPlan, TrafficPlan
from beffroi.traffic.schemas import ManualPlanIn, ManualPlanOut

TARGET: Final = "traffic_manual_plan"
LONGEST: Final = timedelta(days=7)
SHORTEST: Final = timedelta(minutes=1)


def to_out(row: TrafficManualPlan, now: datetime | None = None) -> ManualPlanOut:
    """The API form of a selection; ``active`` while it has neither ended nor expired."""
    now = now or utcnow()
    return ManualPlanOut(
        id=row.id,
        controller_id=row.controller_id,
        plan=row.plan,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        reason=row.reason,
        command_id=row.command_id,
        created_by=row.created_by,
        ended_at=row.ended_at,
        ended_by=row.ended_by,
        active=row.ended_at is None and row.ends_at > now,
    )


async def select_plan(ctx: Context, controller_id: str, body: ManualPlanIn) -> ManualPlanOut:
    """Impose a stored plan on a controller until ``body.ends_at`` (1 minute to 7 days
    ahead), replacing a selection still running; audited with the command it sends."""
    now = utcnow()
    async with change(
        ctx,
        f"{TARGET}.create",
        target_type="asset",
        target_id=controller_id,
        refused_details={"plan": body.plan},
    ) as uc:
        ctx.principal.require(Permission.COMMAND_SEND)
        if not now + SHORTEST <= body.ends_at <= now + LONGEST:
            raise InvalidInput(FieldError("ends_at", "the end must be 1 minute to 7 days ahead"))
        facts = await reading.controller(uc.session, ctx, controller_id)
        ctx.principal.require_commune(facts.commune)
        known = await uc.session.scalar(
            select(TrafficPlan.id).where(
                TrafficPlan.controller_id == controller_id, TrafficPlan.number == body.plan
            )
        )
        if known is None:
            raise InvalidInput(FieldError("plan", f"no valid plan {body.plan} on {controller_id}"))
        replaced = await _running(uc.session, controller_id, now)
        for old in replaced:
            old.ended_at, old.ended_by = now, ctx.principal.name
        command = await create_in(
            uc,
            CommandCreate(
                asset_id=controller_id,
                name="set_plan",
                params={"plan": body.plan, "until": body.ends_at.isoformat()},
                reason=body.reason,
            ),
        )
        row = TrafficManualPlan(
            controller_id=controller_id,
            commune_code=facts.commune,
            plan=body.plan,
            starts_at=now,
            ends_at=body.ends_at,
            reason=body.reason,
            command_id=command.id,
            created_by=ctx.principal.name,
        )
        uc.session.add(row)
        await uc.session.flush()
        uc.audit(
            commune=facts.commune,
            reason=body.reason,
            details={
                "selection_id": row.id,
                "plan": body.plan,
                "ends_at": body.ends_at.isoformat(),
                "command_id": command.id,
                "replaced": [r.id for r in replaced],
            },
        )
        uc.publish(ManualPlanChanged(row.id, controller_id, row.plan, "created", now))
        return to_out(row, now)


async def _running(
    session: AsyncSession, controller_id: str, now: datetime
) -> list[TrafficManualPlan]:
    rows = await session.scalars(
        select(TrafficManualPlan).where(
            TrafficManualPlan.controller_id == controller_id,
            TrafficManualPlan.ended_at.is_(None),
            TrafficManualPlan.ends_at > now,
        )
    )
    return list(rows)


async def end_selection(ctx: Context, selection_id: int, reason: str) -> ManualPlanOut:
    """End a running selection now: the controller is told to resume its timetable."""
    now = utcnow()
    async with change(ctx, f"{TARGET}.end", target_type=TARGET, target_id=selection_id) as uc:
        ctx.principal.require(Permission.COMMAND_SEND)
        row = await uc.session.get(TrafficManualPlan, selection_id)
        if row is None or not ctx.principal.sees(row.commune_code):
            raise NotFound(f"manual plan selection {selection_id} not found")
        await reading.controller(uc.session, ctx, row.controller_id)
        if row.ended_at is not None or row.ends_at <= now:
            raise Conflict(f"manual plan selection {selection_id} has already ended")
        await create_in(
            uc,
            CommandCreate(asset_id=row.controller_id, name="resume_timetable", reason=reason),
        )
        row.ended_at, row.ended_by = now, ctx.principal.name
        uc.audit(commune=row.commune_code, reason=reason, details={"plan": row.plan})
        uc.publish(ManualPlanChanged(row.id, row.controller_id, row.plan, "ended", now))
        return to_out(row, now)


async def list_selections(
    ctx: Context, controller_id: str | None = None, *, active: bool | None = None
) -> list[ManualPlanOut]:
    """Selections in scope, newest first (``active``: only running ones, or only others)."""
    ctx.principal.require(Permission.ASSET_READ)
    now = utcnow()
    async with ctx.db.read() as session:
        stmt = (
            select(TrafficManualPlan)
            .where(ctx.principal.scope_clause(TrafficManualPlan.commune_code))
            .order_by(TrafficManualPlan.id.desc())
            .limit(500)
        )
        if controller_id is not None:
            await reading.controller(session, ctx, controller_id)
            stmt = stmt.where(TrafficManualPlan.controller_id == controller_id)
        out = [to_out(r, now) for r in await session.scalars(stmt)]
    return out if active is None else [s for s in out if s.active is active]


async def close_ended(ctx: Context, now: datetime | None = None) -> list[int]:
    """Note the selections that reached their end (the controllers went back to their
    timetables by themselves): audited once, one event each; idempotent."""
    now = now or utcnow()
    async with change(ctx, f"{TARGET}.expire", target_type=TARGET) as uc:
        ctx.principal.require(Permission.COMMAND_SEND)
        rows = list(
            await uc.session.scalars(
                select(TrafficManualPlan)
                .where(TrafficManualPlan.ended_at.is_(None), TrafficManualPlan.ends_at <= now)
                .order_by(TrafficManualPlan.id)
                .with_for_update()
            )
        )
        if not rows:
            return []
        for row in rows:
            row.ended_at, row.ended_by = row.ends_at, "expiry"
        uc.audit(details={"selections": [r.id for r in rows]})
        uc.publish(
            *(ManualPlanChanged(r.id, r.controller_id, r.plan, "expired", now) for r in rows)
        )
    return [r.id for r in rows]
