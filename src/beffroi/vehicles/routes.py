"""Use cases of the winter service's salting routes: create, change, delete, read, and
how much of a route the salting trucks covered (docs/vehicles.md).

A route is seen and changed only by someone whose scope covers all its communes, as teams
and notification routes are: a route shared by Talant and Chenôve is not Talant's to
show (it would name Chenôve's streets) nor to change.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.communes.service import resolve_codes
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.db import Derived
from beffroi.roads import places
from beffroi.roads.geometry import Metric
from beffroi.vehicles import salting
from beffroi.vehicles.models import SaltingRoute
from beffroi.vehicles.schemas import (
    RouteCompletion,
    SaltingRouteCreate,
    SaltingRouteList,
    SaltingRouteOut,
    SaltingRouteUpdate,
)

TARGET = "salting_route"
# Completion over a night of salting by default.
DEFAULT_SINCE = timedelta(hours=12)


def _seen(principal: Principal, route: SaltingRoute) -> bool:
    return principal.covers(route.communes)


async def load(
    session: AsyncSession, principal: Principal, route_id: int, *, lock: bool = False
) -> SaltingRoute:
    """A route the caller sees, or 404 (as for one that does not exist)."""
    stmt = select(SaltingRoute).where(SaltingRoute.id == route_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None or not _seen(principal, row):
        raise NotFound(f"salting route {route_id} not found")
    return row


def _require_covers(principal: Principal, communes: list[str], *, named: bool = True) -> None:
    """Refuse communes outside the scope; those the line crosses, unnamed when the caller
    did not name them (which communes a line crosses outside one's scope is not theirs)."""
    if not principal.covers(communes):
        outside = sorted(set(communes) - (principal.communes or set()))
        if not named:
            raise PermissionDenied(
                f"the route runs through communes outside the scope of {principal.name}"
            )
        raise PermissionDenied(f"communes {outside} are outside the scope of {principal.name}")


async def _unique(session: AsyncSession, name: str, route_id: int | None = None) -> None:
    stmt = select(SaltingRoute.id).where(func.lower(SaltingRoute.name) == name.lower())
    if route_id is not None:
        stmt = stmt.where(SaltingRoute.id != route_id)
    if (await session.execute(stmt)).first() is not None:
        raise Conflict(f"a salting route is already named {name!r}")


async def _placed(
    session: AsyncSession, data: dict[str, object]
) -> tuple[dict[str, object], float, tuple[str, ...]]:
    placed = await places.place(session, data, "geometry")
    return placed.geojson, round(Metric(placed.shape).projected.length, 1), placed.communes


async def create(ctx: Context, data: SaltingRouteCreate) -> SaltingRouteOut:
    """Record a salting route in communes of the caller's scope."""
    async with change(ctx, f"{TARGET}.create", target_type=TARGET) as uc:
        ctx.principal.require(Permission.ROADS_MANAGE)
        name = data.name.strip()
        if not name:
            raise InvalidInput(FieldError("name", "must not be blank"))
        geojson, length, crossed = await _placed(uc.session, data.geometry.model_dump())
        communes = (
            await resolve_codes(uc.session, data.communes, "communes")
            if data.communes
            else list(crossed)
        )
        _require_covers(ctx.principal, communes, named=bool(data.communes))
        await _unique(uc.session, name)
        now = utcnow()
        row = SaltingRoute(
            name=name,
            communes=sorted(set(communes)),
            geometry=geojson,
            level=data.level,
            length_m=length,
            created_at=now,
            updated_at=now,
        )
        uc.session.add(row)
        await uc.session.flush()
        uc.audit(
            commune=row.communes[0] if len(row.communes) == 1 else None,
            target_id=row.id,
            details={"name": name, "communes": row.communes, "level": row.level},
        )
        return SaltingRouteOut.model_validate(row)


async def update(ctx: Context, route_id: int, data: SaltingRouteUpdate) -> SaltingRouteOut:
    """Change a route's name, communes, line or level."""
    async with change(ctx, f"{TARGET}.update", target_type=TARGET, target_id=route_id) as uc:
        ctx.principal.require(Permission.ROADS_MANAGE)
        row = await load(uc.session, ctx.principal, route_id, lock=True)
        _require_covers(ctx.principal, row.communes)
        changed = data.model_dump(exclude_unset=True)
        if data.name is not None:
            name = data.name.strip()
            if not name:
                raise InvalidInput(FieldError("name", "must not be blank"))
            await _unique(uc.session, name, route_id)
            row.name = name
        if data.geometry is not None:
            row.geometry, row.length_m, crossed = await _placed(
                uc.session, data.geometry.model_dump()
            )
            if data.communes is None:
                row.communes = sorted(set(crossed))
        if data.communes is not None:
            row.communes = sorted(set(await resolve_codes(uc.session, data.communes, "communes")))
        if data.level is not None:
            row.level = data.level
        _require_covers(ctx.principal, row.communes, named=data.communes is not None)
        row.updated_at = utcnow()
        uc.audit(
            commune=row.communes[0] if len(row.communes) == 1 else None,
            details={"changed": sorted(changed)},
        )
        return SaltingRouteOut.model_validate(row)


async def delete(ctx: Context, route_id: int) -> None:
    """Delete a route (the tracks stay: they are the trucks')."""
    async with change(ctx, f"{TARGET}.delete", target_type=TARGET, target_id=route_id) as uc:
        ctx.principal.require(Permission.ROADS_MANAGE)
        row = await load(uc.session, ctx.principal, route_id, lock=True)
        _require_covers(ctx.principal, row.communes)
        uc.audit(
            commune=row.communes[0] if len(row.communes) == 1 else None,
            details={"name": row.name},
        )
        await uc.session.delete(row)


async def get(ctx: Context, route_id: int) -> SaltingRouteOut:
    """One route the caller sees."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        return SaltingRouteOut.model_validate(await load(session, ctx.principal, route_id))


async def listed(ctx: Context, since: datetime | None = None) -> SaltingRouteList:
    """The routes the caller sees, by level then name; each with its completion since
    ``since`` when asked."""
    ctx.principal.require(Permission.ASSET_READ)
    now = utcnow()
    if since is not None and not now - salting.SPAN <= since < now:
        raise InvalidInput(
            FieldError("since", f"must be in the last {salting.SPAN.days} days, before now")
        )
    async with ctx.db.read() as session:
        stmt = select(SaltingRoute).order_by(SaltingRoute.level, SaltingRoute.name)
        rows = [r for r in (await session.execute(stmt)).scalars() if _seen(ctx.principal, r)]
        items = []
        for row in rows:
            done = None
            if since is not None:
                found = await salting.covered(
                    session, ctx.principal, shape(row.geometry), since, now, ctx.settings
                )
                done = round(found.fraction, 4)
            items.append(SaltingRouteOut.model_validate(Derived(row, completion=done)))
    return SaltingRouteList(items=items)


async def completion(
    ctx: Context, route_id: int, since: datetime | None, until: datetime | None
) -> RouteCompletion:
    """How much of the route the salting trucks covered from ``since`` (12 h ago by
    default) to ``until`` (now)."""
    ctx.principal.require(Permission.ASSET_READ)
    end = until or utcnow()
    start = since or end - DEFAULT_SINCE
    if start >= end:
        raise InvalidInput(FieldError("since", "must be before until"))
    if end - start > salting.SPAN:
        raise InvalidInput(
            FieldError("since", f"the period may not exceed {salting.SPAN.days} days")
        )
    async with ctx.db.read() as session:
        row = await load(session, ctx.principal, route_id)
        found = await salting.covered(
            session, ctx.principal, shape(row.geometry), start, end, ctx.settings
        )
    return RouteCompletion(
        route_id=route_id,
        since=start,
        until=end,
        tolerance_m=ctx.settings.vehicles_salting_tolerance_m,
        completion=round(found.fraction, 4),
        length_m=row.length_m,
        salted_m=round(row.length_m * found.fraction, 1),
        trucks=found.trucks,
    )
