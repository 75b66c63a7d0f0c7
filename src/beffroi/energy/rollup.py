"""Daily energy totals, computed set-based from the hourly rollups.

For each local day: one statement replaces the day's rows of ``energy_daily`` (every
metered asset: what its meter rose, the off-peak part, the burning hours, the pro rata
baseline), one those of ``energy_daily_cabinets`` (their sums per cabinet and commune),
one those of ``energy_daily_communes`` (per commune). A day is recomputed whole, never
appended to, so re-runs and late readings are harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, insert, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as asset_queries
from beffroi.catalogue import CATALOGUE, Domain, EquipmentType
from beffroi.communes import queries as commune_queries
from beffroi.config import offpeak_hours
from beffroi.core.context import Context
from beffroi.core.sun import SunCalendar
from beffroi.core.time import utcnow
from beffroi.db import Database
from beffroi.energy import days
from beffroi.energy.models import NO_CABINET, EnergyDaily, EnergyDailyCabinet, EnergyDailyCommune
from beffroi.telemetry import queries as telemetry_queries

# The counter of a lamp's burning hours, and its light output when it has none.
BURNING_KEY = "lamp_hours"
LEVEL_KEY = "level_pct"
# How far back the previous reading of a counter is looked for, to count the energy
# drawn between it and the day's first: meters report every 15 minutes, and each hour
# looked back costs a twenty-fourth of the day's rows again.
LOOKBACK = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Metering:
    """What the catalogue says is metered: the types with an energy meter, split into
    cabinets and the lights they feed, and the attributes of the baseline."""

    cabinets: tuple[str, ...]
    lights: tuple[str, ...]
    meters: tuple[str, ...]
    former_power: tuple[str, ...]
    former_hours: tuple[str, ...]

    @property
    def types(self) -> tuple[str, ...]:
        """Every metered type."""
        return self.cabinets + self.lights


def metering() -> Metering:
    """The catalogue's metered lighting types and baseline attributes."""
    metered = [t for t in CATALOGUE.of_domain(Domain.LIGHTING) if t.energy_meter]
    renovated = [t.renovation for t in metered if t.renovation]

    def keys(types: list[EquipmentType]) -> tuple[str, ...]:
        return tuple(t.key for t in types)

    return Metering(
        cabinets=keys([t for t in metered if t.cabinet]),
        lights=keys([t for t in metered if not t.cabinet]),
        meters=tuple(sorted({t.energy_meter for t in metered if t.energy_meter})),
        former_power=tuple(sorted({r.former_power for r in renovated})),
        former_hours=tuple(sorted({r.former_hours for r in renovated})),
    )


def _first(columns: list[Any]) -> ColumnElement[Any]:
    """The first non-NULL of ``columns`` (the attribute of whichever type declares it)."""
    return columns[0] if len(columns) == 1 else func.coalesce(*columns)


def _day_rows(
    meter: Metering, day: date, sun: SunCalendar | None, offpeak: frozenset[int], zone: Any
) -> Any:
    """The SELECT of a day's ``energy_daily`` rows."""
    start, end = days.bounds(day, zone)
    cheap = days.runs(days.offpeak_buckets(day, zone, offpeak))
    rises = telemetry_queries.span_rises(
        (*meter.meters, BURNING_KEY, LEVEL_KEY), start, end, LOOKBACK, cheap
    )
    assets = asset_queries.with_numbers(meter.types, meter.former_power + meter.former_hours)
    is_meter = rises.c.key.in_(meter.meters)
    energy = func.sum(case((is_meter, rises.c.rise)))
    offpeak_rise = func.coalesce(func.sum(case((is_meter, rises.c.part_rise))), 0.0)
    counted = func.sum(case((rises.c.key == BURNING_KEY, rises.c.rise)))
    lit = func.sum(case((rises.c.key == LEVEL_KEY, rises.c.lit)))
    power = _first([assets.c[n] for n in meter.former_power]) if meter.former_power else None
    hours = _first([assets.c[n] for n in meter.former_hours]) if meter.former_hours else None
    # A day whose meter had no earlier reading (the first day metered, or after a long
    # silence) drew more than its rise shows: it is left out of the comparison.
    whole = func.max(case((is_meter, rises.c.first))) == 0
    baseline: ColumnElement[Any] = (
        case((whole, power * hours * literal(days.year_share(sun, day))))
        if power is not None and hours is not None
        else literal(None)
    )
    cabinet = case(
        (assets.c.type.in_(meter.cabinets), assets.c.id),
        else_=func.coalesce(assets.c.parent_id, NO_CABINET),
    )
    return (
        select(
            assets.c.id,
            literal(day),
            assets.c.type,
            assets.c.commune_code,
            cabinet,
            energy,
            offpeak_rise,
            func.coalesce(counted, lit),
            baseline,
        )
        .select_from(rises.join(assets, assets.c.id == rises.c.asset_id))
        .group_by(
            assets.c.id,
            assets.c.type,
            assets.c.commune_code,
            assets.c.parent_id,
            *(assets.c[n] for n in meter.former_power + meter.former_hours),
        )
        .having(energy.is_not(None))
    )


def _cabinet_rows(meter: Metering, day: date) -> Any:
    """The SELECT of a day's ``energy_daily_cabinets`` rows, from its ``energy_daily``."""
    row = EnergyDaily
    light = row.asset_type.in_(meter.lights)
    cabinet = row.asset_type.in_(meter.cabinets)

    def lights_sum(column: Any, *more: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((and_(light, *more), column))), 0.0)

    return (
        select(
            row.day,
            row.cabinet_id,
            row.commune_code,
            func.count(case((light, 1))),
            lights_sum(row.energy_wh),
            lights_sum(row.offpeak_wh),
            lights_sum(row.energy_wh, row.baseline_wh.is_not(None)),
            lights_sum(row.baseline_wh),
            lights_sum(row.burning_h),
            func.sum(case((cabinet, row.energy_wh))),
            func.sum(case((cabinet, row.offpeak_wh))),
        )
        .where(row.day == day)
        .group_by(row.day, row.cabinet_id, row.commune_code)
    )


def _commune_rows(day: date) -> Any:
    """The SELECT of a day's ``energy_daily_communes`` rows, from its cabinets' rows."""
    c = EnergyDailyCabinet
    return (
        select(
            c.day,
            c.commune_code,
            func.sum(c.lights),
            func.sum(c.energy_wh),
            func.sum(c.offpeak_wh),
            func.sum(c.compared_wh),
            func.sum(c.baseline_wh),
            func.sum(c.burning_h),
            func.sum(c.supply_wh),
            func.sum(c.supply_offpeak_wh),
        )
        .where(c.day == day)
        .group_by(c.day, c.commune_code)
    )


_DAILY = [
    "asset_id",
    "day",
    "asset_type",
    "commune_code",
    "cabinet_id",
    "energy_wh",
    "offpeak_wh",
    "burning_h",
    "baseline_wh",
]
_CABINETS = [
    "day",
    "cabinet_id",
    "commune_code",
    "lights",
    "energy_wh",
    "offpeak_wh",
    "compared_wh",
    "baseline_wh",
    "burning_h",
    "supply_wh",
    "supply_offpeak_wh",
]
_COMMUNES = [c for c in _CABINETS if c != "cabinet_id"]


@dataclass(frozen=True, slots=True)
class Rolled:
    """What one rollup did: the days recomputed and the rows they hold now."""

    first: date
    last: date
    assets: int
    cabinets: int


async def _roll_day(
    session: AsyncSession,
    meter: Metering,
    day: date,
    sun: SunCalendar | None,
    offpeak: frozenset[int],
    zone: Any,
) -> tuple[int, int]:
    await session.execute(delete(EnergyDaily).where(EnergyDaily.day == day))
    written = await session.execute(
        insert(EnergyDaily).from_select(_DAILY, _day_rows(meter, day, sun, offpeak, zone))
    )
    await session.execute(delete(EnergyDailyCabinet).where(EnergyDailyCabinet.day == day))
    summed = await session.execute(
        insert(EnergyDailyCabinet).from_select(_CABINETS, _cabinet_rows(meter, day))
    )
    await session.execute(delete(EnergyDailyCommune).where(EnergyDailyCommune.day == day))
    await session.execute(insert(EnergyDailyCommune).from_select(_COMMUNES, _commune_rows(day)))
    return int(written.rowcount or 0), int(summed.rowcount or 0)  # type: ignore[attr-defined]


async def roll_days(db: Database, settings: Any, first: date, last: date) -> Rolled:
    """Recompute the daily totals of local days ``first`` to ``last`` (included), in one
    transaction: a reader sees the old totals or the new, never half of them."""
    meter = metering()
    offpeak = offpeak_hours(settings.energy_offpeak_hours)
    zone = settings.zone
    assets = cabinets = 0
    async with db.write() as session:
        if db.is_postgres:
            # Compiling these statements (JIT) cost about 2 s a day at the metropolis's size,
            # for statements run once an hour.
            await session.execute(text("SET LOCAL jit = off"))
        sun = await commune_queries.city_sun(session, settings.timezone)
        day = first
        while day <= last:
            written, summed = await _roll_day(session, meter, day, sun, offpeak, zone)
            assets, cabinets = assets + written, cabinets + summed
            day += timedelta(days=1)
    return Rolled(first, last, assets, cabinets)


async def roll_recent(ctx: Context) -> Rolled:
    """The scheduled rollup: yesterday and today (local), recomputed whole each time."""
    today = utcnow().astimezone(ctx.settings.zone).date()
    return await roll_days(ctx.db, ctx.settings, today - timedelta(days=1), today)
