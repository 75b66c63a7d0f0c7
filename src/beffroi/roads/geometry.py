"""Geometries of road situations: GeoJSON checked with shapely, measured in metres.

A situation is a line (a closed street, a works section: LineString or MultiLineString)
or an area (an event's perimeter: Polygon or MultiPolygon), WGS84 in GeoJSON order; a
detour is a line. Distances are taken in an azimuthal equidistant projection centred on
the situation, exact enough at a metropolis's scale whatever the metropolis.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from math import cos, isfinite, radians
from typing import Any

import shapely
from pyproj import Transformer
from shapely import get_coordinates
from shapely.errors import GEOSException
from shapely.geometry import Point, mapping, shape
from shapely.geometry.base import BaseGeometry

from beffroi.core.errors import FieldError, InvalidInput

LINES = frozenset({"LineString", "MultiLineString"})
AREAS = frozenset({"Polygon", "MultiPolygon"})
# Metres beyond the outermost commune centres still counted inside the metropolis: a
# commune's centre is not its edge (the metropolis keeps no boundaries).
BOUNDS_MARGIN_M = 8_000.0
# Spacing of the points where a geometry's communes are looked up, and their most.
SAMPLE_STEP_M = 200.0
MAX_SAMPLES = 500
MAX_VERTICES = 5_000


@dataclass(frozen=True, slots=True)
class Bounds:
    """The metropolis's box (min lon, min lat, max lon, max lat), WGS84."""

    west: float
    south: float
    east: float
    north: float

    def contains(self, geometry: BaseGeometry) -> bool:
        """Whether the whole geometry lies inside the box."""
        w, s, e, n = geometry.bounds
        return bool(w >= self.west and s >= self.south and e <= self.east and n <= self.north)


def bounds_around(
    centres: Iterable[tuple[float, float]], margin_m: float = BOUNDS_MARGIN_M
) -> Bounds | None:
    """The box of the communes' centres (lon, lat) widened by ``margin_m``; None without
    communes."""
    points = list(centres)
    if not points:
        return None
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    # A degree of latitude is 111.32 km; of longitude, that times the cosine of latitude.
    dlat = margin_m / 111_320.0
    dlon = margin_m / (111_320.0 * max(0.1, cos(radians(sum(lats) / len(lats)))))
    return Bounds(min(lons) - dlon, min(lats) - dlat, max(lons) + dlon, max(lats) + dlat)


def parse(data: Any, field: str, kinds: frozenset[str], bounds: Bounds | None) -> BaseGeometry:
    """A valid shapely geometry of one of ``kinds`` from GeoJSON, inside ``bounds``, or an
    error naming ``field`` and what is wrong."""
    if not isinstance(data, dict) or data.get("type") not in kinds:
        expected = " or ".join(sorted(kinds))
        raise InvalidInput(FieldError(field, f"expected a GeoJSON {expected}"))
    try:
        geometry = shape(data)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError, GEOSException) as exc:
        raise InvalidInput(FieldError(field, f"not valid GeoJSON: {exc}")) from None
    if geometry.is_empty:
        raise InvalidInput(FieldError(field, "the geometry is empty"))
    coordinates = get_coordinates(geometry)
    if len(coordinates) > MAX_VERTICES:
        raise InvalidInput(FieldError(field, f"more than {MAX_VERTICES} vertices"))
    if not all(isfinite(v) for v in coordinates.flat):
        raise InvalidInput(FieldError(field, "coordinates must be finite numbers"))
    if geometry.geom_type in LINES and geometry.length == 0:
        raise InvalidInput(FieldError(field, "a line needs two distinct points"))
    if not geometry.is_valid:
        raise InvalidInput(FieldError(field, "the geometry is invalid (self-intersecting?)"))
    w, s, e, n = geometry.bounds
    if not (w >= -180 and e <= 180 and s >= -90 and n <= 90):
        raise InvalidInput(FieldError(field, "coordinates must be WGS84 (lon, lat)"))
    if bounds is not None and not bounds.contains(geometry):
        raise InvalidInput(FieldError(field, "outside the metropolis"))
    return geometry


def to_geojson(geometry: BaseGeometry) -> dict[str, Any]:
    """The GeoJSON of a geometry, with lists (not tuples) as JSON columns store them."""
    out: dict[str, Any] = mapping(geometry)
    return {"type": out["type"], "coordinates": _lists(out["coordinates"])}


def _lists(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value


class Metric:
    """Metres around a geometry: an azimuthal equidistant projection at its centre."""

    def __init__(self, around: BaseGeometry) -> None:
        centre = around.centroid
        self._forward = Transformer.from_crs(
            "EPSG:4326",
            f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m",
            always_xy=True,
        )
        self.projected = self.project(around)

    def project(self, geometry: BaseGeometry) -> BaseGeometry:
        """The geometry in metres."""
        return shapely.transform(geometry, self._forward.transform, interleaved=False)

    def distance_m(self, lon: float, lat: float) -> float:
        """Metres from the point to the geometry (0 inside an area)."""
        return float(self.project(Point(lon, lat)).distance(self.projected))

    def distances_m(self, points: Sequence[tuple[float, float]]) -> list[float]:
        """Metres from each point (lon, lat) to the geometry, projected all at once."""
        if not points:
            return []
        xs, ys = self._forward.transform([p[0] for p in points], [p[1] for p in points])
        found: list[float] = shapely.distance(shapely.points(xs, ys), self.projected).tolist()
        return found


def samples(geometry: BaseGeometry) -> Iterator[tuple[float, float]]:
    """Points (lon, lat) along a line or an area's outline, every ~200 m and at each
    vertex, plus an area's inner point: where the communes it crosses are looked up."""
    for x, y in get_coordinates(geometry):
        yield float(x), float(y)
    outline = geometry.boundary if geometry.geom_type in AREAS else geometry
    metric = Metric(outline)
    length = metric.projected.length
    count = min(MAX_SAMPLES, int(length // SAMPLE_STEP_M))
    inverse = Transformer.from_crs(metric._forward.target_crs, "EPSG:4326", always_xy=True)
    for i in range(1, count):
        point = metric.projected.interpolate(i * length / count)
        lon, lat = inverse.transform(point.x, point.y)
        yield float(lon), float(lat)
    if geometry.geom_type in AREAS:
        inner = geometry.representative_point()
        yield inner.x, inner.y
