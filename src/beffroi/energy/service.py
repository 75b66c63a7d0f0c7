"""Use cases of the energy area: a day's lighting energy against its baselines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as asset_queries
from beffroi.catalogue import CATALOGUE, Domain, EquipmentType
from beffroi.communes import queries as commune_queries
from beffroi.core.context import Context
from beffroi.core.dates import OUT_OF_RANGE, day_in_range
from beffroi.core.errors import FieldError, InvalidInput
from beffroi.core.principal import Permission, Principal
from beffroi.core.sun import SunCalendar
from beffroi.core.time import utcnow
from beffroi.energy.schemas import LightingEnergy, Reference
from beffroi.telemetry import queries as telemetry_queries

# The same weekday a year before: 52 weeks, so a Tuesday is compared with a Tuesday.
LAST_YEAR = timedelta(days=364)


def _in_service(principal: Principal, types: list[EquipmentType]) -> Select[Any]:
    return asset_queries.id_query(types=[t.key for t in types], scope=principal, only_live=True)


def _cabinets() -> list[EquipmentType]:
    """The lighting's metered cabinets, as the catalogue declares them."""
    return [t for t in CATALOGUE.of_domain(Domain.LIGHTING, cabinet=True) if t.energy_meter]


def _lights() -> list[EquipmentType]:
    """The lights those cabinets feed, with a rated power to reckon full power from."""
    fed = {t.key for t in _cabinets()}
    return [
        t
        for t in CATALOGUE.of_domain(Domain.LIGHTING, cabinet=False)
        if t.rated_power and fed.intersection(t.parent_types)
    ]


async def _metered(
    session: AsyncSession,
    principal: Principal,
    since: datetime,
    until: datetime,
    *,
    rollups: bool,
) -> tuple[float | None, int]:
    """The cabinets' meters' total rise over ``[since, until)`` and how many reported."""
    total: float | None = None
    reporting = 0
    for cabinet in _cabinets():
        assert cabinet.energy_meter is not None  # _cabinets() keeps the metered ones
        rise, count = await telemetry_queries.counter_rise(
            session,
            _in_service(principal, [cabinet]),
            cabinet.energy_meter,
            since,
            until,
            rollups=rollups,
        )
        if rise is not None:
            total = (total or 0.0) + rise
        reporting += count
    return total, reporting


def dark_hours(sun: SunCalendar | None, day: date, since: datetime, until: datetime) -> float:
    """Hours of ``[since, until)`` the city spent in the dark on local ``day``."""
    if sun is None or until <= since:
        return 0.0
    today = sun.day(day)
    midnight = datetime.combine(day, time(0), sun.zone).astimezone(UTC)
    nights = ((midnight, today.sunrise), (today.sunset, midnight + timedelta(days=1)))
    seconds = sum(
        max(0.0, (min(end, until) - max(start, since)).total_seconds()) for start, end in nights
    )
    return seconds / 3600


async def _rated_power_w(session: AsyncSession, lights: Select[Any]) -> tuple[float, int]:
    names = {t.rated_power for t in _lights() if t.rated_power}
    watts = [
        float(next((a[n] for n in names if a.get(n)), 0))
        for a in await asset_queries.attributes(session, lights)
    ]
    return sum(watts), len(watts)


async def lighting_energy(ctx: Context, day: date | None = None) -> LightingEnergy:
    """The lighting energy of a local day so far (today by default), in the caller's scope,
    beside the same hours a year earlier and the full-power baseline."""
    ctx.principal.require(Permission.ASSET_READ)
    zone = ctx.settings.zone
    now = utcnow()
    day = day or now.astimezone(zone).date()
    if not day_in_range(day):  # before the arithmetic below, which overflows near year 1
        raise InvalidInput(FieldError("day", OUT_OF_RANGE))
    since = datetime.combine(day, time(0), zone).astimezone(UTC)
    if since > now:
        raise InvalidInput(FieldError("day", f"{day} has not begun"))
    until = min(now, datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC))
    cabinets = _in_service(ctx.principal, _cabinets())
    lights = _in_service(ctx.principal, _lights())
    async with ctx.db.read() as session:
        cabinet_count = int(
            (
                await session.execute(select(func.count()).select_from(cabinets.subquery()))
            ).scalar_one()
        )
        measured, reporting = await _metered(session, ctx.principal, since, until, rollups=False)
        then_wh, then_reporting = await _metered(
            session, ctx.principal, since - LAST_YEAR, until - LAST_YEAR, rollups=True
        )
        watts, light_count = await _rated_power_w(session, lights)
        sun = await commune_queries.city_sun(session, ctx.settings.timezone)
    hours = dark_hours(sun, day, since, until)
    return LightingEnergy(
        day=day,
        since=since,
        until=until,
        measured_wh=measured,
        cabinets=cabinet_count,
        cabinets_reporting=reporting,
        last_year=Reference(day=day - LAST_YEAR, wh=then_wh, cabinets_reporting=then_reporting),
        full_power_wh=watts * hours,
        lights=light_count,
        lit_hours=round(hours, 3),
    )
