"""What other areas read of the communes: plain rows, never the table."""

from __future__ import annotations

from dataclasses import dataclass

from pyproj import Geod
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.communes.models import Commune
from beffroi.core.sun import SunCalendar, city_centre

_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True, slots=True)
class Place:
    """A commune: its code and name, where it is and how many live there."""

    code: str
    name: str
    lat: float
    lon: float
    population: int


async def places(session: AsyncSession) -> list[Place]:
    """Every commune, by code (there are tens, not thousands)."""
    rows = await session.execute(
        select(Commune.code, Commune.name, Commune.lat, Commune.lon, Commune.population).order_by(
            Commune.code
        )
    )
    return [Place(*row) for row in rows]


async def city_sun(session: AsyncSession, timezone: str) -> SunCalendar | None:
    """The city's astronomical clock, placed at the centre of its communes; None without
    communes placed on the map."""
    try:
        return SunCalendar(*city_centre(await places(session)), timezone=timezone)
    except ValueError:  # no communes, or no valid position
        return None


async def nearest(session: AsyncSession, lon: float, lat: float, within_m: float) -> Place | None:
    """The commune whose centre is nearest the point, if one is within ``within_m`` metres
    (communes are known by their centre: the metropolis keeps no boundaries)."""
    best: tuple[float, Place] | None = None
    for place in await places(session):
        _, _, distance = _GEOD.inv(lon, lat, place.lon, place.lat)
        if distance <= within_m and (best is None or distance < best[0]):
            best = (distance, place)
    return None if best is None else best[1]
