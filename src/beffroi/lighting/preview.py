"""Previews for the program editor and the calendar view: the level a program's steps ask
for through one lighting day (saved or not), and which program a calendar runs on each
lighting day of a stretch of days.

Nothing is written: a preview is read-only and needs only ``asset:read``, as reading the
programs does. The sun is the city's (the centre of its communes) unless a commune is
named, then that commune's position.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from beffroi.communes import queries as commune_queries
from beffroi.communes.service import resolve as resolve_commune
from beffroi.core.context import Context
from beffroi.core.errors import FieldError, InvalidInput
from beffroi.core.principal import Permission
from beffroi.core.sun import SunCalendar
from beffroi.core.time import utcnow
from beffroi.lighting.calendar import CalendarSpec, match, parse_calendar
from beffroi.lighting.clock import (
    Resolved,
    level_at,
    lighting_day,
    lighting_day_bounds,
    order_errors,
    resolve,
)
from beffroi.lighting.library import city_sun, load_calendar
from beffroi.lighting.program import ProgramSpec
from beffroi.lighting.schemas import (
    CalendarDay,
    CalendarDays,
    PreviewPoint,
    PreviewRequest,
    ProgramPreview,
    StepOnDay,
    TimingError,
)


def curve(
    spec: ProgramSpec, day: date, sun: SunCalendar, every_min: int
) -> tuple[list[Resolved], list[tuple[datetime, float]]]:
    """The steps of ``spec`` on lighting day ``day`` and the level they ask for: a point
    every ``every_min`` minutes from noon to the next noon, and at each step's start and
    ramp end, so that a line through the points is the exact curve. Before the day's first
    step, the same program's previous day holds (as if it ran the night before)."""
    start, end = lighting_day_bounds(day, sun.zone)
    today = resolve(spec, day, sun)
    # In time order: a program out of order is previewed too (its errors come with it).
    timeline = sorted([*resolve(spec, day - timedelta(days=1), sun), *today], key=_at)
    moments = set()
    moment = start
    while moment < end:
        moments.add(moment)
        moment += timedelta(minutes=every_min)
    moments.add(end)
    for step in today:
        for edge in (step.at, step.ramp_end):
            if start <= edge <= end:
                moments.add(edge)
    points = [(m, round(level_at(timeline, m), 2)) for m in sorted(moments)]
    return today, points


def _at(step: Resolved) -> datetime:
    return step.at


async def _sun(ctx: Context, commune: str | None) -> tuple[SunCalendar, str | None]:
    async with ctx.db.read() as session:
        if commune is None:
            sun = await city_sun(session, ctx)
            if sun is None:
                raise InvalidInput(FieldError("commune", "no commune is placed on the map"))
            return sun, None
        code = (await resolve_commune(session, commune)).code
        place = next(p for p in await commune_queries.places(session) if p.code == code)
    if not ctx.principal.sees(code):
        # Unknown to them, as any commune outside their scope.
        raise InvalidInput(FieldError("commune", f"unknown commune {commune!r}"))
    return SunCalendar(place.lat, place.lon, ctx.settings.timezone), code


async def preview_program(ctx: Context, request: PreviewRequest) -> ProgramPreview:
    """The curve of ``request.steps`` on one lighting day (today's by default), sunset and
    sunrise, and what is wrong with their timing that day (the save checks every day of
    two years; a preview shows the one asked)."""
    ctx.principal.require(Permission.ASSET_READ)
    sun, commune = await _sun(ctx, request.commune)
    day = request.day or lighting_day(utcnow(), sun.zone)
    spec = ProgramSpec(steps=request.steps)
    steps, points = await asyncio.to_thread(curve, spec, day, sun, request.every_min)
    start, end = lighting_day_bounds(day, sun.zone)
    return ProgramPreview(
        day=day,
        commune=commune,
        start=start,
        end=end,
        sunset=sun.day(day).sunset,
        sunrise=sun.day(day + timedelta(days=1)).sunrise,
        steps=[_on_day(s, sun) for s in steps],
        points=[
            PreviewPoint(at=m, local_time=_clock(m, sun), level_pct=level) for m, level in points
        ],
        errors=[
            TimingError(field=e.field, message=e.message) for e in order_errors(spec, day, sun)
        ],
    )


async def calendar_days(ctx: Context, calendar_id: int, first: date, count: int) -> CalendarDays:
    """Which program the calendar runs on each of ``count`` lighting days from ``first``,
    and the rule that chose it (None: the default)."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        row = await load_calendar(session, ctx, calendar_id)
    spec = parse_calendar({"rules": row.rules, "default_program_id": row.default_program_id})
    # A year of days with holiday rules takes tens of milliseconds: off the event loop.
    days = await asyncio.to_thread(_days, spec, first, count)
    return CalendarDays(calendar_id=calendar_id, version=row.version, days=days)


def _days(spec: CalendarSpec, first: date, count: int) -> list[CalendarDay]:
    days = []
    for offset in range(count):
        day = first + timedelta(days=offset)
        found = match(spec, day)
        days.append(CalendarDay(day=day, program_id=found.program_id, rule_index=found.rule_index))
    return days


def _on_day(step: Resolved, sun: SunCalendar) -> StepOnDay:
    return StepOnDay(
        index=step.index,
        at=step.at,
        local_time=_clock(step.at, sun),
        kind=step.kind,
        level_pct=step.level_pct,
        ramp_s=step.ramp_s,
        presence_level_pct=step.presence_level_pct,
        hold_s=step.hold_s,
    )


def _clock(moment: datetime, sun: SunCalendar) -> str:
    return moment.astimezone(sun.zone).strftime("%H:%M")
