"""Priority approaches as geometry: is a bus on an approach, heading for the stop line,
and how far from it?

Pure functions over WGS84 positions. Distances and bearings are geodesic (pyproj's
``Geod``); a line approach is measured in a local azimuthal equidistant projection centred
on its stop line, where shapely projects the bus onto the path (metres, exact enough
over the few hundred metres an approach spans).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from pyproj import Geod, Transformer
from shapely.geometry import LineString, Point

GEOD = Geod(ellps="WGS84")


class Shape(StrEnum):
    """How an approach is drawn."""

    LINE = "line"  # the path a bus follows to the stop line, which is its last point
    SECTOR = "sector"  # the stop line as a point, a radius, a bearing of travel


@dataclass(frozen=True, slots=True)
class Position:
    """A vehicle's position from the feed. ``bearing``: degrees clockwise from north, the
    direction of travel (None when the feed does not say)."""

    vehicle_id: str
    route_id: str
    trip_id: str
    lon: float
    lat: float
    bearing: float | None
    timestamp: float


def angle_between(a: float, b: float) -> float:
    """The smaller angle between two bearings, in degrees (0..180)."""
    d = abs(a - b) % 360.0
    return 360.0 - d if d > 180.0 else d


@dataclass(frozen=True, slots=True)
class Zone:
    """One approach, ready to judge positions.

    ``radius_m``: for a sector, how far from the stop line a bus may ask; for a line, how
    far off the path (half the corridor's width). ``bearing_deg``: for a sector, the
    direction of travel towards the stop line (None: any). ``tolerance_deg``: how far a
    bus's heading may stray from the approach's direction.
    """

    approach_id: int
    shape: Shape
    coordinates: tuple[tuple[float, float], ...]
    radius_m: float
    bearing_deg: float | None
    tolerance_deg: float
    lines: frozenset[str]

    def serves(self, route_id: str) -> bool:
        """Whether the approach gives priority to buses of ``route_id`` (all when empty)."""
        return not self.lines or route_id in self.lines

    def distance_to_stop(self, pos: Position) -> float | None:
        """Metres between the bus and the stop line when it is on the approach and heading
        for the intersection, else None."""
        if self.shape is Shape.SECTOR:
            return self._sector(pos)
        return self._line(pos)

    def _sector(self, pos: Position) -> float | None:
        stop_lon, stop_lat = self.coordinates[0]
        # Bearing from the bus to the stop line: a bus past it points away.
        towards, _, dist = GEOD.inv(pos.lon, pos.lat, stop_lon, stop_lat)
        if dist > self.radius_m:
            return None
        if (
            self.bearing_deg is not None
            and dist > 1.0
            and angle_between(towards % 360.0, self.bearing_deg) > self.tolerance_deg
        ):
            return None
        reference = self.bearing_deg if self.bearing_deg is not None else towards % 360.0
        if pos.bearing is not None and angle_between(pos.bearing, reference) > self.tolerance_deg:
            return None
        return float(dist)

    def _line(self, pos: Position) -> float | None:
        path, project = _local(self.coordinates)
        x, y = project.transform(pos.lon, pos.lat)
        bus = Point(x, y)
        if path.distance(bus) > self.radius_m:
            return None
        along = path.project(bus)
        if along >= path.length:
            return None  # beyond the stop line: already through
        if pos.bearing is not None:
            ahead = path.interpolate(min(along + 1.0, path.length))
            here = path.interpolate(along)
            lon0, lat0 = project.transform(here.x, here.y, direction="INVERSE")
            lon1, lat1 = project.transform(ahead.x, ahead.y, direction="INVERSE")
            heading, _, _ = GEOD.inv(lon0, lat0, lon1, lat1)
            if angle_between(pos.bearing, heading % 360.0) > self.tolerance_deg:
                return None
        return float(path.length - along)


_PROJECTED: dict[tuple[tuple[float, float], ...], tuple[LineString, Transformer]] = {}


def _local(coords: tuple[tuple[float, float], ...]) -> tuple[LineString, Transformer]:
    """The path in metres around its stop line, and the projection (cached per path:
    building a transformer costs far more than using one)."""
    found = _PROJECTED.get(coords)
    if found is None:
        lon0, lat0 = coords[-1]
        project = Transformer.from_crs(
            "EPSG:4326",
            f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m",
            always_xy=True,
        )
        path = LineString([project.transform(lon, lat) for lon, lat in coords])
        found = _PROJECTED[coords] = (path, project)
    return found


def zone_of(
    approach_id: int,
    shape: str,
    coordinates: Sequence[Sequence[float]],
    radius_m: float,
    bearing_deg: float | None,
    tolerance_deg: float,
    lines: Sequence[str],
) -> Zone:
    """A zone from an approach's stored fields."""
    return Zone(
        approach_id,
        Shape(shape),
        tuple((float(c[0]), float(c[1])) for c in coordinates),
        radius_m,
        bearing_deg,
        tolerance_deg,
        frozenset(lines),
    )
