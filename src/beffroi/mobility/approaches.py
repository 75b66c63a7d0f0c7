"""Priority approaches: created, changed and deleted by traffic people in the controller's
commune (asset:write and the traffic domain), read by whoever sees the controller."""

from __future__ import annotations

from sqlalchemy import select

from beffroi.assets.reading import get_in_scope
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import UseCase, change
from beffroi.core.vocabulary import Domain
from beffroi.mobility.models import PriorityApproach
from beffroi.mobility.schemas import ApproachCreate, ApproachOut, ApproachUpdate

CONTROLLER = "traffic_controller"


def _require_editor(ctx: Context) -> None:
    ctx.principal.require(Permission.ASSET_WRITE)
    if not ctx.principal.in_domain(Domain.TRAFFIC):
        raise PermissionDenied(f"{ctx.principal.name} does not act in the traffic domain")


async def _controller_commune(uc: UseCase, controller_id: str) -> str:
    """The commune of a controller with bus priority, in the caller's scope."""
    asset = await get_in_scope(uc.session, uc.ctx, controller_id)
    if asset.type != CONTROLLER:
        raise InvalidInput(FieldError("controller_id", f"{controller_id!r} is not a controller"))
    if not asset.attributes.get("bus_priority"):
        raise InvalidInput(
            FieldError("controller_id", f"controller {controller_id!r} has no bus priority")
        )
    uc.ctx.principal.require_commune(asset.commune_code)
    return asset.commune_code


async def create_approach(ctx: Context, body: ApproachCreate) -> ApproachOut:
    """Add an approach to a controller with bus priority."""
    async with change(ctx, "mobility.approach.create", target_type="priority_approach") as uc:
        _require_editor(ctx)
        commune = await _controller_commune(uc, body.controller_id)
        now = utcnow()
        row = PriorityApproach(
            **body.model_dump(),
            commune_code=commune,
            created_by=ctx.principal.name,
            created_at=now,
            updated_at=now,
        )
        uc.session.add(row)
        await uc.session.flush()
        uc.audit(target_id=row.id, commune=commune, details=body.model_dump())
        return ApproachOut.model_validate(row)


async def _load(uc: UseCase, approach_id: int) -> PriorityApproach:
    row = await uc.session.get(PriorityApproach, approach_id, with_for_update=True)
    if row is None or not uc.ctx.principal.sees(row.commune_code):
        raise NotFound(f"approach {approach_id} not found")
    return row


async def update_approach(ctx: Context, approach_id: int, body: ApproachUpdate) -> ApproachOut:
    """Change an approach, naming the version read."""
    async with change(
        ctx, "mobility.approach.update", target_type="priority_approach", target_id=approach_id
    ) as uc:
        _require_editor(ctx)
        row = await _load(uc, approach_id)
        ctx.principal.require_commune(row.commune_code)
        if row.version != body.version:
            raise Conflict(
                f"approach {approach_id} is at version {row.version}, not {body.version}",
                current_version=row.version,
            )
        changes = body.model_dump(exclude_unset=True, exclude={"version"})
        if (
            row.shape == "line"
            and changes.get("bearing_deg") is not None
            and "shape" not in changes
        ):
            raise InvalidInput(FieldError("bearing_deg", "a line approach has no bearing"))
        for name, value in changes.items():
            setattr(row, name, value)
        if changes.get("shape") == "line":
            row.bearing_deg = None
        row.version += 1
        row.updated_at = utcnow()
        uc.audit(commune=row.commune_code, details=changes)
        await uc.session.flush()
        return ApproachOut.model_validate(row)


async def delete_approach(ctx: Context, approach_id: int) -> None:
    """Delete an approach and the record of its requests."""
    async with change(
        ctx, "mobility.approach.delete", target_type="priority_approach", target_id=approach_id
    ) as uc:
        _require_editor(ctx)
        row = await _load(uc, approach_id)
        ctx.principal.require_commune(row.commune_code)
        await uc.session.delete(row)
        uc.audit(commune=row.commune_code, details={"controller_id": row.controller_id})


async def list_approaches(ctx: Context, controller_id: str | None = None) -> list[ApproachOut]:
    """Approaches in the caller's scope, of one controller if named."""
    ctx.principal.require(Permission.ASSET_READ)
    stmt = select(PriorityApproach).where(ctx.principal.scope_clause(PriorityApproach.commune_code))
    if controller_id is not None:
        stmt = stmt.where(PriorityApproach.controller_id == controller_id)
    async with ctx.db.read() as session:
        rows = (await session.execute(stmt.order_by(PriorityApproach.id))).scalars().all()
    return [ApproachOut.model_validate(r) for r in rows]


async def get_approach(ctx: Context, approach_id: int) -> ApproachOut:
    """One approach in scope."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        row = await session.get(PriorityApproach, approach_id)
    if row is None or not ctx.principal.sees(row.commune_code):
        raise NotFound(f"approach {approach_id} not found")
    return ApproachOut.model_validate(row)
