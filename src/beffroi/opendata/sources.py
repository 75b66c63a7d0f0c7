"""The queries that build each dataset's rows from the hub's data.

Each takes the caller's session and a :class:`BuildContext`, reads other areas through
their ``queries`` modules only, and returns plain rows (dicts). What it returns beyond the
declared columns is dropped, and coarsening is applied, by :func:`privacy.publishable`:
a query says what the data is, not how it is protected.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from shapely.geometry import shape
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as assets
from beffroi.communes import queries as communes
from beffroi.energy import queries as energy
from beffroi.interventions import queries as interventions
from beffroi.opendata.spec import BuildContext, Row
from beffroi.reports import queries as reports
from beffroi.roads import queries as roads
from beffroi.telemetry import queries as telemetry

# Field work published in the statistics: everything but the cameras'.
PUBLIC_CATEGORIES = ("lighting", "traffic", "roads", "snow", "cleanliness")


async def _names(session: AsyncSession) -> dict[str, str]:
    return {p.code: p.name for p in await communes.places(session)}


def _since(ctx: BuildContext) -> datetime:
    now: datetime = ctx.now
    start = now - timedelta(days=ctx.history_days)
    return start.replace(minute=0, second=0, microsecond=0)


async def streetlights(session: AsyncSession, ctx: BuildContext) -> Sequence[Row]:
    """Every live streetlight: where, its lamp, its cabinet, and its newest reported level."""
    names = await _names(session)
    lights = await assets.described(session, "streetlight")
    ids = assets.id_query(types=["streetlight"], only_live=True)
    levels = await telemetry.newest_values(session, ids, "level_pct")
    online = dict(await telemetry.connectivity(session))
    rows: list[Row] = []
    for light in lights:
        attrs = light.attributes
        level = levels.get(light.id)
        rows.append(
            {
                "light_id": light.id,
                "commune_code": light.commune,
                "commune": names.get(light.commune, light.commune),
                "cabinet_id": light.parent_id,
                "lamp_type": attrs.get("lamp_type"),
                "rated_power_w": attrs.get("rated_power_w"),
                "colour_temperature_k": attrs.get("colour_temperature_k"),
                "mounting_height_m": attrs.get("mounting_height_m"),
                "dimmable": attrs.get("dimmable"),
                "status": light.status,
                "connected": online.get(light.id),
                "level_pct": level[1] if level else None,
                "level_at": level[0] if level else None,
                "lon": light.lon,
                "lat": light.lat,
            }
        )
    return rows


async def lighting_energy(session: AsyncSession, ctx: BuildContext) -> Sequence[Row]:
    """Each commune's lighting energy per local day, in kWh."""
    names = await _names(session)
    first = _since(ctx).astimezone(ZoneInfo(ctx.timezone)).date()
    rows: list[Row] = []
    for day in await energy.commune_days(session, first):
        saved = round(100 * (1 - day.compared_wh / day.baseline_wh), 1) if day.baseline_wh else None
        rows.append(
            {
                "day": day.day,
                "commune_code": day.commune_code,
                "commune": names.get(day.commune_code, day.commune_code),
                "lights": day.lights,
                "energy_kwh": round(day.energy_wh / 1000, 3),
                "offpeak_kwh": round(day.offpeak_wh / 1000, 3),
                "baseline_kwh": round(day.baseline_wh / 1000, 3),
                "savings_pct": saved,
                "burning_h": round(day.burning_h, 2),
            }
        )
    return rows


async def _hourly(
    session: AsyncSession, ctx: BuildContext, asset_type: str, keys: Sequence[str]
) -> tuple[dict[str, assets.Described], dict[tuple[str, datetime], dict[str, Any]]]:
    """The assets of a type and their hourly rollups, by (asset, hour) then key."""
    found = {a.id: a for a in await assets.described(session, asset_type)}
    ids = assets.id_query(types=[asset_type], only_live=True)
    now: datetime = ctx.now
    hours: dict[tuple[str, datetime], dict[str, Any]] = defaultdict(dict)
    for h in await telemetry.hours_of(session, ids, keys, _since(ctx), now):
        hours[(h.asset_id, h.bucket)][h.key] = h
    return found, hours


def _mean(hour: dict[str, Any], key: str) -> float | None:
    h = hour.get(key)
    return round(h.sum / h.count, 2) if h is not None and h.count else None


async def traffic_counts(session: AsyncSession, ctx: BuildContext) -> Sequence[Row]:
    """Vehicles counted per counter and hour, with the hour's mean speed and occupancy."""
    counters, hours = await _hourly(
        session, ctx, "traffic_counter", ("count", "speed_kmh", "occupancy_pct")
    )
    rows: list[Row] = []
    for (asset_id, bucket), hour in sorted(hours.items()):
        counter = counters.get(asset_id)
        if counter is None:
            continue
        counted = hour.get("count")
        rows.append(
            {
                "counter_id": asset_id,
                "commune_code": counter.commune,
                "road": counter.attributes.get("road"),
                "hour": bucket,
                "vehicles": round(counted.sum) if counted is not None else None,
                "mean_speed_kmh": _mean(hour, "speed_kmh"),
                "occupancy_pct": _mean(hour, "occupancy_pct"),
                "lon": counter.lon,
                "lat": counter.lat,
            }
        )
    return rows


async def car_parks_now(session: AsyncSession, ctx: BuildContext) -> Sequence[Row]:
    """Each car park's newest free spaces and capacity."""
    parks = await assets.described(session, "car_park")
    ids = assets.id_query(types=["car_park"], only_live=True)
    newest: dict[str, dict[str, tuple[datetime, float | None]]] = defaultdict(dict)
    for asset_id, key, ts, value in await telemetry.newest_of(
        session, ids, ("free_spaces", "capacity")
    ):
        newest[asset_id][key] = (ts, value)
    rows: list[Row] = []
    for park in parks:
        values = newest.get(park.id, {})
        free = values.get("free_spaces")
        capacity = values.get("capacity", (None, park.attributes.get("capacity")))[1]
        free_n = free[1] if free else None
        rows.append(
            {
                "car_park_id": park.id,
                "name": park.name,
                "commune_code": park.commune,
                "operator": park.attributes.get("operator"),
                "capacity": capacity,
                "free_spaces": free_n,
                "occupancy_pct": (
                    round(100 * (1 - free_n / capacity), 1)
                    if free_n is not None and capacity
                    else None
                ),
                "observed_at": free[0] if free else None,
                "lon": park.lon,
                "lat": park.lat,
            }
        )
    return rows


async def car_park_history(session: AsyncSession, ctx: BuildContext) -> Sequence[Row]:
    """Each car park's free spaces per hour: mean and least."""
    parks, hours = await _hourly(session, ctx, "car_park", ("free_spaces",))
    rows: list[Row] = []
    for (asset_id, bucket), hour in sorted(hours.items()):
        park = parks.get(asset_id)
        free = hour.get("free_spaces")
        if park is None or free is None:
            continue
        rows.append(
            {
                "car_park_id": asset_id,
                "commune_code": park.commune,
                "hour": bucket,
                "mean_free_spaces": _mean(hour, "free_spaces"),
                "least_free_spaces": free.min,
                "capacity": park.attributes.get("capacity"),
            }
        )
    return rows


AIR_KEYS = ("no2_ugm3", "pm10_ugm3", "pm25_ugm3", "o3_ugm3")


async def air_quality(session: AsyncSession, ctx: BuildContext) -> Sequence[Row]:
    """Each station's hourly mean concentrations."""
    stations, hours = await _hourly(session, ctx, "air_quality_station", AIR_KEYS)
    rows: list[Row] = []
    for (asset_id, bucket), hour in sorted(hours.items()):
        station = stations.get(asset_id)
        if station is None:
            continue
        rows.append(
            {
                "station_id": asset_id,
                "name": station.name,
                "commune_code": station.commune,
                "hour": bucket,
                **{key: _mean(hour, key) for key in AIR_KEYS},
                "lon": station.lon,
                "lat": station.lat,
            }
        )
    return rows


async def intervention_statistics(session: AsyncSession, ctx: BuildContext) -> Sequence[Row]:
    """Per commune, category and local month: interventions opened, resolved, and the
    median hours from opening to resolution."""
    names = await _names(session)
    zone = ZoneInfo(ctx.timezone)
    groups: dict[tuple[str, str, Any], list[float | None]] = defaultdict(list)
    for o in await interventions.opened_since(session, _since(ctx), categories=PUBLIC_CATEGORIES):
        month = o.created_at.astimezone(zone).date().replace(day=1)
        hours = (
            (o.resolved_at - o.created_at).total_seconds() / 3600
            if o.resolved_at is not None
            else None
        )
        groups[(o.commune_code, o.category, month)].append(hours)
    rows: list[Row] = []
    for (commune, category, month), spans in sorted(groups.items()):
        done = [s for s in spans if s is not None]
        rows.append(
            {
                "month": month,
                "commune_code": commune,
                "commune": names.get(commune, commune),
                "category": category,
                "opened": len(spans),
                "resolved": len(done),
                "median_hours_to_resolve": round(median(done), 2) if done else None,
            }
        )
    return rows


async def citizen_reports(session: AsyncSession, ctx: BuildContext) -> Sequence[Row]:
    """Every citizen report of the period, anonymised by the reports area (kind, commune,
    local day, a grid cell's centre, public status): never who, never the words."""
    names = await _names(session)
    rows: list[Row] = []
    async for r in reports.anonymised(session, since=_since(ctx), timezone=ctx.timezone):
        rows.append(
            {
                "day": r.day,
                "commune_code": r.commune,
                "commune": names.get(r.commune, r.commune),
                "service_code": r.service_code,
                "category": r.category,
                "status": r.status.value,
                "days_to_resolve": r.days_to_resolve,
                "lon": r.lon,
                "lat": r.lat,
            }
        )
    return rows


async def works_and_closures(session: AsyncSession, ctx: BuildContext) -> Sequence[Row]:
    """Planned and current road situations (works, closures, events, incidents): where,
    when and what they do to traffic. Neither their titles nor descriptions (typed by
    people) nor their authors."""
    names = await _names(session)
    rows: list[Row] = []
    for s in await roads.open_situations(session):
        inner = shape(s.geometry).representative_point()
        rows.append(
            {
                "situation_id": s.id,
                "type": s.type,
                "incident_kind": s.incident_kind,
                "status": s.status,
                "road": s.road or None,
                "commune_code": s.commune_code,
                "communes": ", ".join(names.get(c, c) for c in s.communes),
                "starts_at": s.starts_at,
                "ends_at": s.ends_at,
                "road_closed": s.road_closed,
                "lanes_closed": s.lanes_closed,
                "speed_limit_kmh": s.speed_limit_kmh,
                "delay_min": s.delay_min,
                "detour": s.detour is not None,
                "geometry_geojson": json.dumps(s.geometry, separators=(",", ":")),
                "lon": inner.x,
                "lat": inner.y,
            }
        )
    return rows
