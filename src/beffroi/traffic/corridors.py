"""Corridors (green waves): intersections in driving order, their offsets computed from
the distances and the design speed (:mod:`beffroi.traffic.offsets`), applied to every
controller at once as one command batch (``apply_green_wave``): one group change,
approved, sent, followed and audited as any batch."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets.queries import Facts
from beffroi.commands.batches import create_batch_in
from beffroi.commands.schemas import BatchCreate, IdsTarget
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.traffic import reading
from beffroi.traffic.events import CorridorChanged
from beffroi.traffic.models import TrafficCorridor, TrafficPlan
from beffroi.traffic.offsets import green_wave, leg_lengths
from beffroi.traffic.rights import require_planner
from beffroi.traffic.schemas import CorridorApply, CorridorIn, CorridorOffset, CorridorOut

TARGET = "traffic_corridor"


def offsets_of(
    members: list[dict[str, Any]], facts: dict[str, Facts], speed_kmh: float, cycle_s: int
) -> list[CorridorOffset]:
    """The offsets of a corridor's members: stored distances where measured, geodesic
    ones between the controllers' positions elsewhere."""
    ids = [m["controller_id"] for m in members]
    geodesic = leg_lengths([(facts[i].lon, facts[i].lat) for i in ids])
    legs = [float(members[k + 1].get("distance_m") or geodesic[k]) for k in range(len(members) - 1)]
    return [
        CorridorOffset(
            controller_id=o.controller_id,
            name=facts[o.controller_id].name,
            distance_m=round(o.distance_m, 1),
            travel_s=round(o.travel_s, 1),
            offset_s=o.offset_s,
        )
        for o in green_wave(ids, legs, speed_kmh, cycle_s)
    ]


async def _out(session: AsyncSession, ctx: Context, row: TrafficCorridor) -> CorridorOut:
    facts = await reading.controllers(session, ctx, [m["controller_id"] for m in row.members])
    return CorridorOut(
        id=row.id,
        name=row.name,
        commune_code=row.commune_code,
        speed_kmh=row.speed_kmh,
        cycle_s=row.cycle_s,
        plan=row.plan,
        version=row.version,
        offsets=offsets_of(row.members, facts, row.speed_kmh, row.cycle_s),
        applied_batch_id=row.applied_batch_id,
        applied_at=row.applied_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _members(body: CorridorIn) -> list[dict[str, Any]]:
    ids = [m.controller_id for m in body.members]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise InvalidInput(FieldError("members", f"named twice: {', '.join(twice)}"))
    return [m.model_dump(exclude_none=True) for m in body.members]


async def _load(session: AsyncSession, ctx: Context, corridor_id: int) -> TrafficCorridor:
    row = await session.get(TrafficCorridor, corridor_id)
    if row is None or not ctx.principal.sees(row.commune_code):
        raise NotFound(f"corridor {corridor_id} not found")
    return row


async def list_corridors(ctx: Context) -> list[CorridorOut]:
    """Corridors in scope, by name (those whose every controller is in scope)."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        rows = await session.scalars(
            select(TrafficCorridor)
            .where(ctx.principal.scope_clause(TrafficCorridor.commune_code))
            .order_by(TrafficCorridor.name)
        )
        out = []
        for row in rows:
            try:
                out.append(await _out(session, ctx, row))
            except NotFound:  # a controller since moved out of scope or decommissioned
                continue
        return out


async def get_corridor(ctx: Context, corridor_id: int) -> CorridorOut:
    """One corridor and its offsets as computed now."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        return await _out(session, ctx, await _load(session, ctx, corridor_id))


async def save_corridor(
    ctx: Context, body: CorridorIn, corridor_id: int | None = None
) -> CorridorOut:
    """Create a corridor, or change one naming the version read. Its controllers must be
    in scope; it belongs to their commune when they share one, else to the metropolis
    (and only metropolis-wide people change it)."""
    action = "create" if corridor_id is None else "update"
    async with change(ctx, f"{TARGET}.{action}", target_type=TARGET, target_id=corridor_id) as uc:
        require_planner(ctx)
        members = _members(body)
        facts = await reading.controllers(uc.session, ctx, [m["controller_id"] for m in members])
        communes = {f.commune for f in facts.values()}
        commune = communes.pop() if len(communes) == 1 else None
        ctx.principal.require_commune(commune)
        if corridor_id is None:
            row = TrafficCorridor(updated_by=ctx.principal.name)
            uc.session.add(row)
        else:
            row = await _load(uc.session, ctx, corridor_id)
            ctx.principal.require_commune(row.commune_code)
            if body.version != row.version:
                raise Conflict(
                    f"corridor version {body.version} is not the one stored ({row.version})"
                )
            row.version += 1
        row.name, row.members, row.commune_code = body.name, members, commune
        row.speed_kmh, row.cycle_s, row.plan = body.speed_kmh, body.cycle_s, body.plan
        row.updated_by, row.updated_at = ctx.principal.name, utcnow()
        clash = await uc.session.scalar(
            select(TrafficCorridor.id).where(
                TrafficCorridor.name == body.name, TrafficCorridor.id != (corridor_id or 0)
            )
        )
        if clash is not None:
            raise Conflict(f"a corridor is already named {body.name!r}")
        await uc.session.flush()
        uc.audit(
            target_id=row.id,
            commune=commune,
            details={"name": row.name, "controllers": len(members), "version": row.version},
        )
        uc.publish(CorridorChanged(row.id, action, utcnow()))
        return await _out(uc.session, ctx, row)


async def delete_corridor(ctx: Context, corridor_id: int) -> None:
    """Delete a corridor (the controllers keep what they run)."""
    async with change(ctx, f"{TARGET}.delete", target_type=TARGET, target_id=corridor_id) as uc:
        require_planner(ctx)
        row = await _load(uc.session, ctx, corridor_id)
        ctx.principal.require_commune(row.commune_code)
        await uc.session.delete(row)
        uc.audit(commune=row.commune_code, details={"name": row.name})
        uc.publish(CorridorChanged(corridor_id, "delete", utcnow()))


async def apply_corridor(ctx: Context, corridor_id: int, body: CorridorApply) -> CorridorOut:
    """Send every controller of the corridor its plan and offset, as one command batch;
    refused, naming them, when a controller has no such plan or runs it on another
    cycle than the corridor's."""
    async with ctx.db.read() as session:  # read before the use case takes the write lock
        ctx.principal.require(Permission.ASSET_READ)
        corridor = await _out(session, ctx, await _load(session, ctx, corridor_id))
        plans: dict[str, int] = _pairs(
            await session.execute(
                select(TrafficPlan.controller_id, TrafficPlan.cycle_s).where(
                    TrafficPlan.controller_id.in_([o.controller_id for o in corridor.offsets]),
                    TrafficPlan.number == corridor.plan,
                )
            )
        )
    async with change(ctx, f"{TARGET}.apply", target_type=TARGET, target_id=corridor_id) as uc:
        require_planner(ctx)
        ctx.principal.require_commune(corridor.commune_code)
        wrong = [
            FieldError(
                "plan",
                f"{o.controller_id} has no plan {corridor.plan}"
                if o.controller_id not in plans
                else f"{o.controller_id} runs plan {corridor.plan} on a {plans[o.controller_id]} s "
                f"cycle, the corridor's is {corridor.cycle_s} s",
            )
            for o in corridor.offsets
            if plans.get(o.controller_id) != corridor.cycle_s
        ]
        if wrong:
            raise InvalidInput(wrong)
        batch_id = await create_batch_in(
            uc,
            BatchCreate(
                type="traffic_controller",
                name="apply_green_wave",
                params={
                    "corridor": corridor.name,
                    "plan": corridor.plan,
                    "cycle_s": corridor.cycle_s,
                    "offsets": {o.controller_id: o.offset_s for o in corridor.offsets},
                },
                target=IdsTarget(kind="ids", asset_ids=[o.controller_id for o in corridor.offsets]),
                reason=body.reason,
            ),
        )
        row = await _load(uc.session, ctx, corridor_id)
        row.applied_batch_id, row.applied_at = batch_id, utcnow()
        uc.audit(
            commune=corridor.commune_code,
            reason=body.reason,
            details={
                "batch_id": batch_id,
                "offsets": {o.controller_id: o.offset_s for o in corridor.offsets},
            },
        )
        uc.publish(CorridorChanged(corridor_id, "apply", utcnow()))
    return await get_corridor(ctx, corridor_id)


def _pairs(rows: Any) -> dict[Any, Any]:
    """The two-column rows of a result as a dictionary."""
    return {row[0]: row[1] for row in rows}
