"""A salting route's completion from the salting trucks' tracks (the pure geometry is in
:mod:`beffroi.vehicles.coverage`).

Every salting truck counts, whichever commune it belongs to (a Chenôve truck salting a
Talant street salts it); the answer names only the trucks the caller sees. Only the
positions near the route are read: its box widened by ``MARGIN_M``, more than a truck
drives between two reports, so that the segments entering the box are kept whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from math import cos, radians

from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as asset_queries
from beffroi.config import Settings
from beffroi.core.principal import Principal
from beffroi.vehicles.coverage import Fix, completion
from beffroi.vehicles.lifecycle import VEHICLE_TYPE, VehicleKind, kind_of
from beffroi.vehicles.models import TrackPoint

MARGIN_M = 500.0
SPAN = timedelta(days=7)
# Positions read for one route at most (a night of 20 trucks reporting every 5 s near it).
MAX_FIXES = 200_000


@dataclass(frozen=True, slots=True)
class Covered:
    """How much of a route was salted, and by which trucks (those the caller sees)."""

    fraction: float
    trucks: list[str]


async def salting_trucks(session: AsyncSession) -> list[str]:
    """Every salting truck of the registry."""
    ids = [row[0] for row in await session.execute(asset_queries.id_query(types=[VEHICLE_TYPE]))]
    attributes = await asset_queries.attributes_of(session, ids)
    return sorted(
        a for a, attrs in attributes.items() if kind_of(attrs) is VehicleKind.SALTING_TRUCK
    )


async def covered(
    session: AsyncSession,
    principal: Principal,
    route: BaseGeometry,
    since: datetime,
    until: datetime,
    settings: Settings,
) -> Covered:
    """The fraction of ``route`` the salting trucks' tracks covered from ``since`` to
    ``until``, within ``BEFFROI_VEHICLES_SALTING_TOLERANCE_M``."""
    trucks = await salting_trucks(session)
    if not trucks:
        return Covered(0.0, [])
    west, south, east, north = route.bounds
    dlat = MARGIN_M / 111_320.0
    dlon = MARGIN_M / (111_320.0 * max(0.1, cos(radians((south + north) / 2))))
    t = TrackPoint
    stmt = (
        select(t.asset_id, t.ts, t.lon, t.lat)
        .where(
            t.asset_id.in_(trucks),
            t.ts >= since,
            t.ts < until,
            t.lon.between(west - dlon, east + dlon),
            t.lat.between(south - dlat, north + dlat),
        )
        .order_by(t.asset_id, t.ts)
        .limit(MAX_FIXES)
    )
    tracks: dict[str, list[Fix]] = {}
    for row in await session.execute(stmt):
        tracks.setdefault(row.asset_id, []).append(Fix(row.ts, row.lon, row.lat))
    tolerance = settings.vehicles_salting_tolerance_m
    fraction = completion(route, list(tracks.values()), tolerance)
    facts = await asset_queries.facts(session, tracks)
    named = [
        truck
        for truck, fixes in sorted(tracks.items())
        if truck in facts
        and principal.sees(facts[truck].commune)
        and completion(route, [fixes], tolerance) > 0
    ]
    return Covered(fraction, named)
