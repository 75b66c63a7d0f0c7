"""Use cases of assignments: which calendar a cabinet, a group, a polygon, a commune or the
whole metropolis follows (:mod:`beffroi.lighting.resolution` says which one wins).

An assignment belongs to the commune of its target (a cabinet's, a group's, the commune
itself, or the commune a polygon is limited to); a commune's people change only theirs.
The metropolis-wide ones (the default, a polygon or group of no commune) are read by all
and changed only by metropolis-wide people.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as asset_queries
from beffroi.assets.groups import polygon_shape
from beffroi.catalogue.visibility import in_view
from beffroi.communes.service import resolve
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.lighting.events import AssignmentChanged
from beffroi.lighting.library import load_calendar, visible
from beffroi.lighting.models import LightingAssignment
from beffroi.lighting.reading import cabinet_types
from beffroi.lighting.schemas import AssignmentCreate, AssignmentOut, AssignmentUpdate, TargetKind

# The field each kind of target is named by; the others must be left out.
_NAMED_BY: dict[TargetKind, frozenset[str]] = {
    TargetKind.CABINET: frozenset({"cabinet_id"}),
    TargetKind.GROUP: frozenset({"group_id"}),
    TargetKind.POLYGON: frozenset({"polygon", "commune"}),
    TargetKind.COMMUNE: frozenset({"commune"}),
    TargetKind.DEFAULT: frozenset(),
}
_REQUIRED: dict[TargetKind, str] = {
    TargetKind.CABINET: "cabinet_id",
    TargetKind.GROUP: "group_id",
    TargetKind.POLYGON: "polygon",
    TargetKind.COMMUNE: "commune",
}


def _shape_errors(data: AssignmentCreate) -> list[FieldError]:
    errors = []
    for name in ("cabinet_id", "group_id", "polygon", "commune"):
        given = getattr(data, name) is not None
        if given and name not in _NAMED_BY[data.target]:
            errors.append(FieldError(name, f"not for a {data.target.value} assignment"))
    required = _REQUIRED.get(data.target)
    if required and getattr(data, required) is None:
        errors.append(FieldError(required, f"required for a {data.target.value} assignment"))
    return errors


async def _target(
    session: AsyncSession, ctx: Context, data: AssignmentCreate
) -> tuple[str | None, str]:
    """(commune, unique key) of the target, checked; a target out of scope is unknown."""
    errors = _shape_errors(data)
    if errors:
        raise InvalidInput(errors)
    if data.target is TargetKind.CABINET:
        assert data.cabinet_id is not None
        cabinet = (await asset_queries.facts(session, [data.cabinet_id])).get(data.cabinet_id)
        shown = cabinet is not None and in_view(ctx.principal, cabinet.commune, cabinet.type)
        if cabinet is None or not cabinet.live or not shown:
            raise InvalidInput(FieldError("cabinet_id", f"unknown cabinet {data.cabinet_id!r}"))
        if cabinet.type not in cabinet_types():
            raise InvalidInput(FieldError("cabinet_id", f"{data.cabinet_id!r} is not a cabinet"))
        return cabinet.commune, f"cabinet:{cabinet.id}"
    if data.target is TargetKind.GROUP:
        assert data.group_id is not None
        group = (await asset_queries.group_facts(session, [data.group_id])).get(data.group_id)
        if group is None or not ctx.principal.sees(group.commune):
            raise InvalidInput(FieldError("group_id", f"unknown group {data.group_id}"))
        return group.commune, f"group:{group.id}"
    commune = (await resolve(session, data.commune)).code if data.commune else None
    if data.target is TargetKind.POLYGON:
        assert data.polygon is not None
        polygon_shape(data.polygon)
        return commune, f"polygon:{uuid.uuid4().hex}"
    if data.target is TargetKind.COMMUNE:
        return commune, f"commune:{commune}"
    return None, "default"


async def _calendar_for(
    session: AsyncSession, ctx: Context, calendar_id: int, commune: str | None
) -> None:
    """The calendar exists in scope and may serve ``commune``'s target."""
    try:
        calendar = await load_calendar(session, ctx, calendar_id)
    except NotFound:
        raise InvalidInput(FieldError("calendar_id", f"unknown calendar {calendar_id}")) from None
    if calendar.commune_code not in (None, commune):
        raise InvalidInput(
            FieldError("calendar_id", f"calendar {calendar_id} belongs to another commune")
        )


async def _load(
    session: AsyncSession, ctx: Context, assignment_id: int, *, lock: bool = False
) -> LightingAssignment:
    stmt = select(LightingAssignment).where(LightingAssignment.id == assignment_id)
    row = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if row is None or not visible(ctx.principal, row.commune_code):
        raise NotFound(f"assignment {assignment_id} not found")
    return row


async def create_assignment(ctx: Context, data: AssignmentCreate) -> AssignmentOut:
    """Give a target a calendar; a target has at most one (change it with an update)."""
    async with change(
        ctx,
        "lighting_assignment.create",
        target_type="lighting_assignment",
        refused_details={"target": data.target.value},
    ) as uc:
        ctx.principal.require(Permission.LIGHTING_PROGRAM)
        session = uc.session
        commune, key = await _target(session, ctx, data)
        ctx.principal.require_commune(commune)
        await _calendar_for(session, ctx, data.calendar_id, commune)
        row = LightingAssignment(
            calendar_id=data.calendar_id,
            target_kind=data.target.value,
            target_key=key,
            cabinet_id=data.cabinet_id,
            group_id=data.group_id,
            commune_code=commune,
            polygon=data.polygon.model_dump() if data.polygon else None,
            created_by=ctx.principal.name,
        )
        session.add(row)
        try:
            await session.flush()
        except IntegrityError:
            raise Conflict(f"{key} already has a calendar: change that assignment") from None
        uc.audit(
            commune=commune,
            target_id=row.id,
            details={"target": key, "calendar_id": data.calendar_id},
        )
        uc.publish(AssignmentChanged(row.id, data.target.value, "created", row.created_at))
    return AssignmentOut.model_validate(row)


async def update_assignment(
    ctx: Context, assignment_id: int, changes: AssignmentUpdate
) -> AssignmentOut:
    """Give an assignment's target another calendar, or move its polygon."""
    async with change(
        ctx,
        "lighting_assignment.update",
        target_type="lighting_assignment",
        target_id=assignment_id,
    ) as uc:
        ctx.principal.require(Permission.LIGHTING_PROGRAM)
        session = uc.session
        row = await _load(session, ctx, assignment_id, lock=True)
        ctx.principal.require_commune(row.commune_code)
        if changes.polygon is not None:
            if row.target_kind != TargetKind.POLYGON.value:
                raise InvalidInput(FieldError("polygon", f"not for a {row.target_kind} assignment"))
            polygon_shape(changes.polygon)
            row.polygon = changes.polygon.model_dump()
        if changes.calendar_id is not None:
            await _calendar_for(session, ctx, changes.calendar_id, row.commune_code)
            row.calendar_id = changes.calendar_id
        row.updated_at = utcnow()
        uc.audit(
            commune=row.commune_code,
            details={"target": row.target_key, **changes.model_dump(exclude_none=True)},
        )
        uc.publish(AssignmentChanged(row.id, row.target_kind, "updated", row.updated_at))
    return AssignmentOut.model_validate(row)


async def delete_assignment(ctx: Context, assignment_id: int) -> None:
    """Remove an assignment: its target falls back on the next most specific one."""
    async with change(
        ctx,
        "lighting_assignment.delete",
        target_type="lighting_assignment",
        target_id=assignment_id,
    ) as uc:
        ctx.principal.require(Permission.LIGHTING_PROGRAM)
        session = uc.session
        row = await _load(session, ctx, assignment_id, lock=True)
        ctx.principal.require_commune(row.commune_code)
        await session.delete(row)
        uc.audit(commune=row.commune_code, details={"target": row.target_key})
        uc.publish(AssignmentChanged(assignment_id, row.target_kind, "deleted", utcnow()))


async def list_assignments(ctx: Context) -> list[AssignmentOut]:
    """The assignments in the caller's scope (their communes' and the metropolis-wide)."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        rows = (
            await session.execute(select(LightingAssignment).order_by(LightingAssignment.id))
        ).scalars()
        return [
            AssignmentOut.model_validate(r) for r in rows if visible(ctx.principal, r.commune_code)
        ]


async def get_assignment(ctx: Context, assignment_id: int) -> AssignmentOut:
    """One assignment in the caller's scope."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        return AssignmentOut.model_validate(await _load(session, ctx, assignment_id))
