"""What other areas read of the communes: plain rows, never the table."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.communes.models import Commune
from beffroi.core.sun import SunCalendar, city_centre


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
