"""Use cases of programs and calendars: the lighting supervisor's library.

A program or calendar of a commune is seen and changed only within that commune's scope;
a metropolis-wide one (no commune) is seen by all and changed only by metropolis-wide
people. A calendar names programs of its own commune or metropolis-wide ones, so that a
commune's edit never changes what another commune runs.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.communes import queries as commune_queries
from beffroi.communes.service import resolve
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound, refuse_nulls
from beffroi.core.principal import Permission, Principal
from beffroi.core.sun import SunCalendar
from beffroi.core.time import utcnow
from beffroi.core.usecase import UseCase, change
from beffroi.lighting.calendar import CalendarSpec, parse_calendar
from beffroi.lighting.clock import check_year
from beffroi.lighting.events import CalendarChanged, ProgramChanged
from beffroi.lighting.models import LightingAssignment, LightingCalendar, LightingProgram
from beffroi.lighting.program import ProgramSpec, parse_program, program_json
from beffroi.lighting.schemas import (
    CalendarCreate,
    CalendarOut,
    CalendarUpdate,
    ProgramCreate,
    ProgramOut,
    ProgramUpdate,
)


@lru_cache(maxsize=16)
def _sun(lat: float, lon: float, timezone: str) -> SunCalendar:
    # Kept between calls: checking a program places it on two years of days.
    return SunCalendar(lat, lon, timezone)


async def city_sun(session: AsyncSession, ctx: Context) -> SunCalendar | None:
    """The city's astronomical clock (the centre of its communes), shared between calls."""
    sun = await commune_queries.city_sun(session, ctx.settings.timezone)
    if sun is None:
        return None
    return _sun(sun.observer.latitude, sun.observer.longitude, ctx.settings.timezone)


def visible(principal: Principal, commune: str | None) -> bool:
    """Whether a program or calendar is in scope: metropolis-wide ones are everybody's."""
    return commune is None or principal.sees(commune)


async def _check_timing(session: AsyncSession, ctx: Context, spec: ProgramSpec) -> None:
    """Refuse steps out of order on any lighting day of this year or the next, at the
    city's centre (across a metropolis the sun differs by seconds)."""
    sun = await city_sun(session, ctx)
    if sun is None:
        return  # no commune placed: no cabinet to run it either
    year = utcnow().astimezone(sun.zone).year
    # About 0.3 s the first time (730 days of sun), off the event loop.
    await asyncio.to_thread(_check_years, spec, (year, year + 1), sun)


def _check_years(spec: ProgramSpec, years: tuple[int, ...], sun: SunCalendar) -> None:
    for year in years:
        check_year(spec, year, sun)


async def _commune(session: AsyncSession, ctx: Context, ref: str | None) -> str | None:
    code = (await resolve(session, ref)).code if ref else None
    ctx.principal.require_commune(code)
    return code


async def load_program(
    session: AsyncSession, ctx: Context, program_id: int, *, lock: bool = False
) -> LightingProgram:
    """A program in the caller's scope, or :class:`NotFound`."""
    stmt = select(LightingProgram).where(LightingProgram.id == program_id)
    row = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if row is None or not visible(ctx.principal, row.commune_code):
        raise NotFound(f"program {program_id} not found")
    return row


async def load_calendar(
    session: AsyncSession, ctx: Context, calendar_id: int, *, lock: bool = False
) -> LightingCalendar:
    """A calendar in the caller's scope, or :class:`NotFound`."""
    stmt = select(LightingCalendar).where(LightingCalendar.id == calendar_id)
    row = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if row is None or not visible(ctx.principal, row.commune_code):
        raise NotFound(f"calendar {calendar_id} not found")
    return row


def _moved_on(what: str, row: LightingProgram | LightingCalendar, version: int) -> None:
    if row.version != version:
        raise Conflict(
            f"{what} {row.id} is at version {row.version}, not {version}",
            current_version=row.version,
        )


async def _flush(session: AsyncSession, what: str, name: str) -> None:
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"a {what} named {name!r} exists") from None


async def _save_update(
    uc: UseCase,
    what: str,
    row: LightingProgram | LightingCalendar,
    changes: ProgramUpdate | CalendarUpdate,
) -> None:
    """The end of every update: names, the next version, the write, its audit entry."""
    if changes.name is not None:
        row.name = changes.name
    if changes.description is not None:
        row.description = changes.description
    row.version += 1
    row.updated_at = utcnow()
    await _flush(uc.session, what, row.name)
    uc.audit(
        commune=row.commune_code,
        details={"version": row.version, **changes.model_dump(mode="json", exclude_unset=True)},
    )


async def create_program(ctx: Context, data: ProgramCreate) -> ProgramOut:
    """Create a program, its steps checked in order on every lighting day of two years."""
    async with change(ctx, "lighting_program.create", target_type="lighting_program") as uc:
        ctx.principal.require(Permission.LIGHTING_PROGRAM)
        session = uc.session
        commune = await _commune(session, ctx, data.commune)
        spec = parse_program({"steps": [s.model_dump() for s in data.steps]})
        await _check_timing(session, ctx, spec)
        row = LightingProgram(
            name=data.name,
            description=data.description,
            commune_code=commune,
            steps=program_json(spec)["steps"],
            created_by=ctx.principal.name,
        )
        session.add(row)
        await _flush(session, "program", data.name)
        uc.audit(commune=commune, target_id=row.id, details={"name": row.name, "steps": row.steps})
        uc.publish(ProgramChanged(row.id, row.version, "created", row.updated_at))
    return ProgramOut.model_validate(row)


async def update_program(ctx: Context, program_id: int, changes: ProgramUpdate) -> ProgramOut:
    """Change a program: refused if it moved on since ``changes.version`` was read."""
    async with change(
        ctx, "lighting_program.update", target_type="lighting_program", target_id=program_id
    ) as uc:
        ctx.principal.require(Permission.LIGHTING_PROGRAM)
        refuse_nulls(changes.model_dump(exclude_unset=True), ("name", "description", "steps"))
        session = uc.session
        row = await load_program(session, ctx, program_id, lock=True)
        ctx.principal.require_commune(row.commune_code)
        _moved_on("program", row, changes.version)
        if changes.steps is not None:
            spec = parse_program({"steps": [s.model_dump() for s in changes.steps]})
            await _check_timing(session, ctx, spec)
            row.steps = program_json(spec)["steps"]
        await _save_update(uc, "program", row, changes)
        uc.publish(ProgramChanged(row.id, row.version, "updated", row.updated_at))
    return ProgramOut.model_validate(row)


async def delete_program(ctx: Context, program_id: int) -> None:
    """Delete a program no calendar names."""
    async with change(
        ctx, "lighting_program.delete", target_type="lighting_program", target_id=program_id
    ) as uc:
        ctx.principal.require(Permission.LIGHTING_PROGRAM)
        session = uc.session
        row = await load_program(session, ctx, program_id, lock=True)
        ctx.principal.require_commune(row.commune_code)
        calendars = (await session.execute(select(LightingCalendar))).scalars().all()
        users = sorted(c.name for c in calendars if program_id in _spec(c).program_ids())
        if users:
            raise Conflict(f"program {program_id} is named by calendars: {', '.join(users)}")
        await session.delete(row)
        uc.audit(commune=row.commune_code, details={"name": row.name})
        uc.publish(ProgramChanged(program_id, 0, "deleted", utcnow()))


async def list_programs(ctx: Context) -> list[ProgramOut]:
    """The programs in the caller's scope (their communes' and the metropolis-wide ones)."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        rows = (
            await session.execute(select(LightingProgram).order_by(LightingProgram.name))
        ).scalars()
        return [
            ProgramOut.model_validate(r) for r in rows if visible(ctx.principal, r.commune_code)
        ]


async def get_program(ctx: Context, program_id: int) -> ProgramOut:
    """One program in the caller's scope."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        return ProgramOut.model_validate(await load_program(session, ctx, program_id))


def _spec(row: LightingCalendar) -> CalendarSpec:
    return parse_calendar({"rules": row.rules, "default_program_id": row.default_program_id})


async def _check_programs(
    session: AsyncSession, ctx: Context, spec: CalendarSpec, commune: str | None
) -> None:
    """Every program the calendar names exists, is visible, and belongs to the calendar's
    commune or to the metropolis."""
    named = [("default_program_id", spec.default_program_id)] + [
        (f"rules.{i}.program_id", r.program_id) for i, r in enumerate(spec.rules)
    ]
    ids = sorted({p for _, p in named})
    rows = await session.execute(
        select(LightingProgram.id, LightingProgram.commune_code).where(LightingProgram.id.in_(ids))
    )
    communes = {row.id: row.commune_code for row in rows}
    errors: list[FieldError] = []
    for field, program_id in named:
        if program_id not in communes or not visible(ctx.principal, communes[program_id]):
            errors.append(FieldError(field, f"unknown program {program_id}"))
        elif communes[program_id] not in (None, commune):
            errors.append(FieldError(field, f"program {program_id} belongs to another commune"))
    if errors:
        raise InvalidInput(errors)


async def create_calendar(ctx: Context, data: CalendarCreate) -> CalendarOut:
    """Create a calendar."""
    async with change(ctx, "lighting_calendar.create", target_type="lighting_calendar") as uc:
        ctx.principal.require(Permission.LIGHTING_PROGRAM)
        session = uc.session
        commune = await _commune(session, ctx, data.commune)
        spec = CalendarSpec(rules=data.rules, default_program_id=data.default_program_id)
        await _check_programs(session, ctx, spec, commune)
        row = LightingCalendar(
            name=data.name,
            description=data.description,
            commune_code=commune,
            rules=[r.model_dump(mode="json", exclude_none=True) for r in spec.rules],
            default_program_id=spec.default_program_id,
            created_by=ctx.principal.name,
        )
        session.add(row)
        await _flush(session, "calendar", data.name)
        uc.audit(
            commune=commune,
            target_id=row.id,
            details={"name": row.name, "rules": row.rules, "default": row.default_program_id},
        )
        uc.publish(CalendarChanged(row.id, row.version, "created", row.updated_at))
    return CalendarOut.model_validate(row)


async def update_calendar(ctx: Context, calendar_id: int, changes: CalendarUpdate) -> CalendarOut:
    """Change a calendar: refused if it moved on since ``changes.version`` was read."""
    async with change(
        ctx, "lighting_calendar.update", target_type="lighting_calendar", target_id=calendar_id
    ) as uc:
        ctx.principal.require(Permission.LIGHTING_PROGRAM)
        refuse_nulls(
            changes.model_dump(exclude_unset=True),
            ("name", "description", "rules", "default_program_id"),
        )
        session = uc.session
        row = await load_calendar(session, ctx, calendar_id, lock=True)
        ctx.principal.require_commune(row.commune_code)
        _moved_on("calendar", row, changes.version)
        current = _spec(row)
        spec = CalendarSpec(
            rules=current.rules if changes.rules is None else changes.rules,
            default_program_id=changes.default_program_id or current.default_program_id,
        )
        await _check_programs(session, ctx, spec, row.commune_code)
        row.rules = [r.model_dump(mode="json", exclude_none=True) for r in spec.rules]
        row.default_program_id = spec.default_program_id
        await _save_update(uc, "calendar", row, changes)
        uc.publish(CalendarChanged(row.id, row.version, "updated", row.updated_at))
    return CalendarOut.model_validate(row)


async def delete_calendar(ctx: Context, calendar_id: int) -> None:
    """Delete a calendar nothing is assigned."""
    async with change(
        ctx, "lighting_calendar.delete", target_type="lighting_calendar", target_id=calendar_id
    ) as uc:
        ctx.principal.require(Permission.LIGHTING_PROGRAM)
        session = uc.session
        row = await load_calendar(session, ctx, calendar_id, lock=True)
        ctx.principal.require_commune(row.commune_code)
        used = (
            await session.execute(
                select(LightingAssignment.id).where(LightingAssignment.calendar_id == calendar_id)
            )
        ).first()
        if used is not None:
            raise Conflict(f"calendar {calendar_id} is assigned; remove its assignments first")
        await session.delete(row)
        uc.audit(commune=row.commune_code, details={"name": row.name})
        uc.publish(CalendarChanged(calendar_id, 0, "deleted", utcnow()))


async def list_calendars(ctx: Context) -> list[CalendarOut]:
    """The calendars in the caller's scope (their communes' and the metropolis-wide ones)."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        rows = (
            await session.execute(select(LightingCalendar).order_by(LightingCalendar.name))
        ).scalars()
        return [
            CalendarOut.model_validate(r) for r in rows if visible(ctx.principal, r.commune_code)
        ]


async def get_calendar(ctx: Context, calendar_id: int) -> CalendarOut:
    """One calendar in the caller's scope."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        return CalendarOut.model_validate(await load_calendar(session, ctx, calendar_id))
