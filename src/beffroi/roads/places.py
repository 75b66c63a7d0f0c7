"""Where a situation lies: its geometry checked against the metropolis, and the communes
it crosses (each sample point along it belongs to the commune whose centre is nearest:
the metropolis keeps commune centres, not boundaries)."""

from __future__ import annotations

from dataclasses import dataclass
from math import cos, radians
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.communes import queries as communes
from beffroi.core.errors import FieldError, InvalidInput
from beffroi.roads import geometry
from beffroi.roads.geometry import AREAS, LINES, Bounds


@dataclass(frozen=True, slots=True)
class Placed:
    """A checked geometry, as stored, and the communes it crosses (sorted)."""

    geojson: dict[str, Any]
    shape: BaseGeometry
    communes: tuple[str, ...]


def nearest_codes(shape: BaseGeometry, centres: list[communes.Place]) -> tuple[str, ...]:
    """The communes whose centre is nearest a sample point of ``shape``."""
    found: set[str] = set()
    for lon, lat in geometry.samples(shape):
        # Nearest by an equirectangular distance: exact enough to rank a few dozen centres.
        scale = cos(radians(lat))
        best = min(centres, key=lambda p: ((p.lon - lon) * scale) ** 2 + (p.lat - lat) ** 2)
        found.add(best.code)
    return tuple(sorted(found))


async def place(session: AsyncSession, data: dict[str, Any], field: str = "geometry") -> Placed:
    """The situation's geometry, checked (valid, inside the metropolis), with its
    communes; an error names ``field``."""
    centres = await communes.places(session)
    bounds: Bounds | None = geometry.bounds_around((p.lon, p.lat) for p in centres)
    if bounds is None:
        raise InvalidInput(FieldError(field, "no commune is known: nothing to place it in"))
    shape = geometry.parse(data, field, LINES | AREAS, bounds)
    return Placed(geometry.to_geojson(shape), shape, nearest_codes(shape, centres))


async def detour(session: AsyncSession, data: dict[str, Any]) -> dict[str, Any]:
    """A detour line, checked as a situation's geometry is."""
    centres = await communes.places(session)
    bounds = geometry.bounds_around((p.lon, p.lat) for p in centres)
    return geometry.to_geojson(geometry.parse(data, "detour", LINES, bounds))
