"""Use cases of road situations: record works, a closure, an event or an incident;
change it; end it now or cancel it; list and read them.

A situation belongs to every commune its geometry crosses: commune staff see it when it
crosses one of theirs, and change it only when it crosses theirs alone (a closure
spanning two communes is the metropolis's). Each change is one transaction, audited;
the map hears of it through :class:`SituationChanged`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete

from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, PermissionDenied
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow
from beffroi.core.usecase import UseCase, change
from beffroi.roads import places, reading
from beffroi.roads.events import SituationChanged
from beffroi.roads.models import RoadSituation, RoadSituationCommune
from beffroi.roads.schemas import (
    Impact,
    SituationClose,
    SituationCreate,
    SituationOut,
    SituationUpdate,
)
from beffroi.roads.situation import (
    MAX_DURATION,
    MAX_LEAD,
    OPEN,
    SituationType,
    Status,
    due_status,
)

TARGET = "road_situation"


def period_errors(
    starts_at: datetime, ends_at: datetime | None, kind: SituationType, now: datetime
) -> list[FieldError]:
    """What is wrong with a period, each naming its field."""
    errors = []
    if starts_at > now + MAX_LEAD:
        errors.append(FieldError("starts_at", f"at most {MAX_LEAD.days} days ahead"))
    if ends_at is None:
        if kind is not SituationType.INCIDENT:
            errors.append(FieldError("ends_at", "required (only an incident's end may be unknown)"))
    elif ends_at <= starts_at:
        errors.append(FieldError("ends_at", "must be after starts_at"))
    elif ends_at - starts_at > MAX_DURATION:
        errors.append(FieldError("ends_at", f"at most {MAX_DURATION.days} days after starts_at"))
    return errors


def _kind_errors(data: SituationCreate) -> list[FieldError]:
    if data.type is SituationType.INCIDENT and data.incident_kind is None:
        return [FieldError("incident_kind", "required for an incident")]
    if data.type is not SituationType.INCIDENT and data.incident_kind is not None:
        return [FieldError("incident_kind", f"not for a {data.type.value}")]
    return []


def _require_communes(principal: Principal, communes: Sequence[str]) -> None:
    """A change needs every commune the situation crosses in the caller's scope."""
    outside = [c for c in communes if not principal.sees(c)]
    if outside:
        # Which communes is not said: those outside the scope are not the caller's to learn.
        raise PermissionDenied(
            f"the situation crosses communes outside the scope of {principal.name}"
        )


def _set_impact(row: RoadSituation, impact: Impact) -> None:
    row.road_closed = impact.road_closed
    row.lanes_closed = impact.lanes_closed
    row.speed_limit_kmh = impact.speed_limit_kmh
    row.delay_min = impact.delay_min


async def _set_communes(uc: UseCase, row: RoadSituation, communes: Sequence[str]) -> None:
    await uc.session.execute(
        delete(RoadSituationCommune).where(RoadSituationCommune.situation_id == row.id)
    )
    uc.session.add_all(RoadSituationCommune(situation_id=row.id, commune_code=c) for c in communes)
    row.commune_code = communes[0] if len(communes) == 1 else None


async def create_situation(ctx: Context, data: SituationCreate) -> SituationOut:
    """Record works, a closure, an event or an incident; planned or active by its start."""
    async with change(
        ctx, f"{TARGET}.create", target_type=TARGET, refused_details={"type": data.type.value}
    ) as uc:
        ctx.principal.require(Permission.ROADS_MANAGE)
        now = utcnow()
        starts = data.starts_at or now
        errors = _kind_errors(data) + period_errors(starts, data.ends_at, data.type, now)
        if data.ends_at is not None and data.ends_at <= now:
            errors.append(FieldError("ends_at", "already over: record current or coming ones"))
        if errors:
            raise InvalidInput(errors)
        placed = await places.place(uc.session, data.geometry.model_dump())
        detour = await places.detour(uc.session, data.detour.model_dump()) if data.detour else None
        _require_communes(ctx.principal, placed.communes)
        row = RoadSituation(
            type=data.type.value,
            incident_kind=data.incident_kind.value if data.incident_kind else None,
            title=data.title.strip(),
            description=data.description.strip(),
            road=data.road.strip(),
            geometry=placed.geojson,
            detour=detour,
            starts_at=starts,
            ends_at=data.ends_at,
            status=due_status(starts, data.ends_at, now).value,
            version=1,
            created_by=ctx.principal.name,
            created_at=now,
            updated_at=now,
        )
        _set_impact(row, data.impact)
        uc.session.add(row)
        await uc.session.flush()
        await _set_communes(uc, row, placed.communes)
        await uc.session.flush()
        uc.audit(
            commune=row.commune_code,
            target_id=row.id,
            details={
                "type": row.type,
                "title": row.title,
                "communes": list(placed.communes),
                "starts_at": row.starts_at.isoformat(),
                "ends_at": row.ends_at.isoformat() if row.ends_at else None,
                "status": row.status,
            },
        )
        uc.publish(SituationChanged(row.id, row.status, "created", now, placed.communes))
        shown = reading.out(row, list(placed.communes), ctx.principal)
    return shown


async def _loaded_open(
    uc: UseCase, situation_id: int, version: int
) -> tuple[RoadSituation, list[str]]:
    ctx = uc.ctx
    ctx.principal.require(Permission.ROADS_MANAGE)
    row = await reading.load(uc.session, ctx.principal, situation_id, lock=True)
    communes = (await reading.communes_of(uc.session, [row.id]))[row.id]
    _require_communes(ctx.principal, communes)
    if row.version != version:
        raise Conflict(
            f"road situation {row.id} is at version {row.version}, not {version}",
            current_version=row.version,
        )
    if Status(row.status) not in OPEN:
        raise Conflict(f"road situation {row.id} is {row.status}", current_status=row.status)
    return row, communes


async def update_situation(ctx: Context, situation_id: int, data: SituationUpdate) -> SituationOut:
    """Change an open situation (naming the version read); its status follows the new
    period."""
    async with change(ctx, f"{TARGET}.update", target_type=TARGET, target_id=situation_id) as uc:
        row, communes = await _loaded_open(uc, situation_id, data.version)
        now = utcnow()
        given = data.model_fields_set
        starts = data.starts_at if data.starts_at is not None else row.starts_at
        ends = data.ends_at if "ends_at" in given else row.ends_at
        if "starts_at" in given and data.starts_at is None:
            raise InvalidInput(FieldError("starts_at", "cannot be null"))
        errors = period_errors(starts, ends, SituationType(row.type), now)
        if ends is not None and ends <= now and ends != row.ends_at:
            errors.append(FieldError("ends_at", "in the past: end the situation instead"))
        if errors:
            raise InvalidInput(errors)
        if data.geometry is not None:
            placed = await places.place(uc.session, data.geometry.model_dump())
            _require_communes(ctx.principal, placed.communes)
            row.geometry = placed.geojson
            communes = list(placed.communes)
            await _set_communes(uc, row, communes)
        if "detour" in given:
            row.detour = (
                await places.detour(uc.session, data.detour.model_dump()) if data.detour else None
            )
        for name in ("title", "description", "road"):
            value = getattr(data, name)
            if value is not None:
                setattr(row, name, value.strip())
        if data.impact is not None:
            _set_impact(row, data.impact)
        row.starts_at, row.ends_at = starts, ends
        row.status = due_status(starts, ends, now).value
        row.version += 1
        row.updated_at = now
        await uc.session.flush()
        uc.audit(
            commune=row.commune_code,
            details={
                "changed": sorted(given - {"version"}),
                "status": row.status,
                "version": row.version,
            },
        )
        uc.publish(SituationChanged(row.id, row.status, "updated", now, tuple(communes)))
        shown = reading.out(row, communes, ctx.principal)
    return shown


async def _close(
    ctx: Context, situation_id: int, body: SituationClose, action: str, status: Status
) -> SituationOut:
    async with change(ctx, f"{TARGET}.{action}", target_type=TARGET, target_id=situation_id) as uc:
        row, communes = await _loaded_open(uc, situation_id, body.version)
        now = utcnow()
        if status is Status.ENDED:
            if row.status != Status.ACTIVE.value:
                raise Conflict(f"road situation {row.id} has not started: cancel it instead")
            row.ends_at = now
        row.status = status.value
        row.closed_by = ctx.principal.name
        row.closed_at = now
        row.close_reason = body.reason.strip()
        row.version += 1
        row.updated_at = now
        await uc.session.flush()
        uc.audit(commune=row.commune_code, reason=row.close_reason, details={"status": row.status})
        uc.publish(SituationChanged(row.id, row.status, action, now, tuple(communes)))
        shown = reading.out(row, communes, ctx.principal)
    return shown


async def end_situation(ctx: Context, situation_id: int, body: SituationClose) -> SituationOut:
    """End an active situation now (the road reopened early)."""
    return await _close(ctx, situation_id, body, "end", Status.ENDED)


async def cancel_situation(ctx: Context, situation_id: int, body: SituationClose) -> SituationOut:
    """Call off a planned or active situation."""
    return await _close(ctx, situation_id, body, "cancel", Status.CANCELLED)


async def list_situations(
    ctx: Context, statuses: Sequence[Status] = (), types: Sequence[SituationType] = ()
) -> list[SituationOut]:
    """Situations in the caller's scope, the most recent start first."""
    ctx.principal.require(Permission.ASSET_READ)
    stmt = reading.in_scope(ctx.principal)
    if statuses:
        stmt = stmt.where(RoadSituation.status.in_([s.value for s in statuses]))
    if types:
        stmt = stmt.where(RoadSituation.type.in_([t.value for t in types]))
    stmt = stmt.order_by(RoadSituation.starts_at.desc(), RoadSituation.id.desc()).limit(2000)
    async with ctx.db.read() as session:
        rows = list((await session.execute(stmt)).scalars())
        communes = await reading.communes_of(session, [r.id for r in rows])
    return [reading.out(r, communes[r.id], ctx.principal) for r in rows]


async def get_situation(ctx: Context, situation_id: int) -> SituationOut:
    """One situation in the caller's scope."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        row = await reading.load(session, ctx.principal, situation_id)
        communes = await reading.communes_of(session, [row.id])
    return reading.out(row, communes[row.id], ctx.principal)
