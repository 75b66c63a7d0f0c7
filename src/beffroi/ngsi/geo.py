"""Geo-queries of NGSI-LD (``georel``, ``geometry``, ``coordinates``) over the assets'
points: near a Point (``maxDistance``/``minDistance``, metres on the sphere), within,
intersecting or disjoint from a Polygon (shapely). Every error names its parameter."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from shapely import contains_xy, intersects_xy
from shapely.geometry import Polygon

from beffroi.core.errors import FieldError, InvalidInput

EARTH_RADIUS_M = 6_371_008.8
MAX_COORDINATES = 20_000  # characters of the coordinates parameter
MAX_VERTICES = 1000
RELATIONS = ("near", "within", "intersects", "disjoint")
GEOMETRIES = ("Point", "Polygon")


def _refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput(FieldError(field, message))


@dataclass(frozen=True, slots=True)
class GeoQuery:
    """A parsed geo-query: a relation, a point or polygon, and near's distances."""

    relation: str
    point: tuple[float, float] | None = None
    polygon: Polygon | None = None
    max_distance: float | None = None
    min_distance: float | None = None

    def bbox(self) -> tuple[float, float, float, float] | None:
        """A box holding every match (min lon, min lat, max lon, max lat), to narrow the
        candidates in SQL; None when the matches are not bounded."""
        if self.relation == "disjoint":
            return None
        if self.polygon is not None:
            min_lon, min_lat, max_lon, max_lat = self.polygon.bounds
            return (min_lon, min_lat, max_lon, max_lat)
        if self.point is None or self.max_distance is None:
            return None
        lon, lat = self.point
        dlat = math.degrees(self.max_distance / EARTH_RADIUS_M)
        cos = math.cos(math.radians(lat))
        dlon = 180.0 if cos < 1e-6 else min(180.0, dlat / cos)
        return (
            max(-180.0, lon - dlon),
            max(-90.0, lat - dlat),
            min(180.0, lon + dlon),
            min(90.0, lat + dlat),
        )

    def holds(self, lon: float, lat: float) -> bool:
        """Whether an asset standing at (lon, lat) matches."""
        if self.polygon is not None:
            if self.relation == "within":
                return bool(contains_xy(self.polygon, lon, lat))
            hit = bool(intersects_xy(self.polygon, lon, lat))
            return hit if self.relation == "intersects" else not hit
        assert self.point is not None
        distance = distance_m(self.point, (lon, lat))
        if self.max_distance is not None and distance > self.max_distance:
            return False
        return self.min_distance is None or distance >= self.min_distance


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (lon, lat) points (haversine)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _position(value: Any, field: str) -> tuple[float, float]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise _refuse(field, "expected a position [longitude, latitude]")
    lon, lat = float(value[0]), float(value[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise _refuse(field, "longitude within -180..180, latitude within -90..90")
    return lon, lat


def _distance(text: str) -> tuple[str, float]:
    name, sep, raw = text.partition("==")
    if not sep or name not in ("maxDistance", "minDistance"):
        raise _refuse("georel", "near takes maxDistance==<metres> or minDistance==<metres>")
    try:
        metres = float(raw)
    except ValueError:
        raise _refuse("georel", f"{name} must be a number of metres") from None
    if not (0 <= metres <= 20_100_000):
        raise _refuse("georel", f"{name} must be between 0 and 20100000 metres")
    return name, metres


def parse(georel: str | None, geometry: str | None, coordinates: str | None) -> GeoQuery | None:
    """The geo-query the three parameters make together (None when none is given)."""
    if georel is None and geometry is None and coordinates is None:
        return None
    if georel is None or geometry is None or coordinates is None:
        missing = "georel" if georel is None else "geometry" if geometry is None else "coordinates"
        raise _refuse(missing, "a geo-query needs georel, geometry and coordinates")
    relation, *modifiers = georel.split(";")
    if relation not in RELATIONS:
        raise _refuse("georel", f"unknown relation {relation[:40]!r}; allowed: {list(RELATIONS)}")
    if geometry not in GEOMETRIES:
        raise _refuse("geometry", f"unknown geometry {geometry[:40]!r}; allowed: {GEOMETRIES}")
    if len(coordinates) > MAX_COORDINATES:
        raise _refuse("coordinates", f"longer than {MAX_COORDINATES} characters")
    try:
        value = json.loads(coordinates)
    except (ValueError, RecursionError):  # deep nesting exhausts the JSON reader
        raise _refuse("coordinates", "expected a JSON array of coordinates") from None
    if relation == "near":
        if geometry != "Point":
            raise _refuse("geometry", "near goes with a Point")
        if not modifiers:
            raise _refuse("georel", "near needs maxDistance==<metres> or minDistance==<metres>")
        distances = dict(_distance(m) for m in modifiers)
        return GeoQuery(
            relation,
            point=_position(value, "coordinates"),
            max_distance=distances.get("maxDistance"),
            min_distance=distances.get("minDistance"),
        )
    if modifiers:
        raise _refuse("georel", f"{relation} takes no distance")
    if geometry != "Polygon":
        raise _refuse("geometry", f"{relation} goes with a Polygon (assets are points)")
    return GeoQuery(relation, polygon=_polygon(value))


def _polygon(value: Any) -> Polygon:
    if not isinstance(value, list) or not value or not isinstance(value[0], list):
        raise _refuse("coordinates", "expected a Polygon: [[[lon, lat], ...]]")
    if sum(len(ring) if isinstance(ring, list) else 1 for ring in value) > MAX_VERTICES:
        raise _refuse("coordinates", f"more than {MAX_VERTICES} positions")
    rings = []
    for ring in value:
        if not isinstance(ring, list) or len(ring) < 4:
            raise _refuse("coordinates", "each ring needs at least 4 positions")
        points = [_position(p, "coordinates") for p in ring]
        if points[0] != points[-1]:
            raise _refuse("coordinates", "each ring must end where it starts")
        rings.append(points)
    polygon = Polygon(rings[0], rings[1:])
    if not polygon.is_valid or polygon.area == 0:
        raise _refuse("coordinates", "the polygon is not valid (it crosses itself, or is flat)")
    return polygon
