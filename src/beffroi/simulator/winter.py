"""Service vehicles of the simulated fleet, and the snow night they drive (docs/vehicles.md).

Each vehicle has a round drawn from its id and depot alone (the registry's location): a
closed loop of streets around the depot, 0.7 to 1.5 km across. A salting truck drives its
round again and again at 25 to 40 km/h; that round is also its salting route, which the
demo records (:func:`salting_route`), so the hub sees the route salted as the truck goes.
A patrol drives a wider loop; a field crew waits at a spot near its depot. Positions are
a function of the moment only (a restart, a second simulator, give the same), reported
every 5 s as the catalogue says.
"""

from __future__ import annotations

import itertools
import math
import random
import zlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

from beffroi.simulator.state import Device, Environment

METRES_PER_DEG_LAT: Final = 110_540.0
METRES_PER_DEG_LON: Final = 111_320.0
VERTICES: Final = 10
KIND_CYCLE: Final = ("salting_truck", "patrol", "field_crew")


@dataclass(frozen=True, slots=True)
class Round:
    """A closed loop in local metres (east, north) around a depot, with its lengths."""

    lon: float
    lat: float
    points: tuple[tuple[float, float], ...]
    cumulative: tuple[float, ...]
    speed_kmh: float

    @property
    def length_m(self) -> float:
        """The loop's length."""
        return self.cumulative[-1]

    def to_lonlat(self, east: float, north: float) -> tuple[float, float]:
        """Local metres to WGS84 (an equirectangular approximation: a few km wide)."""
        lon = self.lon + east / (METRES_PER_DEG_LON * math.cos(math.radians(self.lat)))
        return round(lon, 7), round(self.lat + north / METRES_PER_DEG_LAT, 7)

    def at(self, distance_m: float) -> tuple[float, float, float]:
        """Where (lon, lat) and heading (degrees) ``distance_m`` along the loop."""
        d = distance_m % self.length_m
        for i in range(1, len(self.cumulative)):
            if d <= self.cumulative[i]:
                (x0, y0), (x1, y1) = self.points[i - 1], self.points[i]
                span = self.cumulative[i] - self.cumulative[i - 1]
                f = (d - self.cumulative[i - 1]) / span if span else 0.0
                heading = math.degrees(math.atan2(x1 - x0, y1 - y0)) % 360
                return (*self.to_lonlat(x0 + (x1 - x0) * f, y0 + (y1 - y0) * f), heading)
        lon, lat = self.to_lonlat(*self.points[0])
        return lon, lat, 0.0


@lru_cache(maxsize=4096)
def round_of(asset_id: str, kind: str, lon: float, lat: float) -> Round:
    """The vehicle's round, drawn from its id and depot only."""
    rng = random.Random(zlib.crc32(asset_id.encode()))  # noqa: S311 - synthetic data
    radius = rng.uniform(350, 750) * (1.6 if kind == "patrol" else 1.0)
    start = rng.uniform(0, 2 * math.pi)
    points = []
    for i in range(VERTICES):
        angle = start + 2 * math.pi * i / VERTICES
        r = radius * rng.uniform(0.8, 1.2)
        points.append((r * math.sin(angle), r * math.cos(angle)))
    points.append(points[0])
    cumulative = [0.0]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        cumulative.append(cumulative[-1] + math.hypot(x1 - x0, y1 - y0))
    speed = rng.uniform(25, 40) if kind == "salting_truck" else rng.uniform(20, 45)
    return Round(lon, lat, tuple(points), tuple(cumulative), speed)


def salting_route(asset_id: str, lon: float, lat: float) -> dict[str, Any]:
    """The GeoJSON LineString a salting truck drives (its salting route)."""
    loop = round_of(asset_id, "salting_truck", lon, lat)
    return {"type": "LineString", "coordinates": [list(loop.to_lonlat(*p)) for p in loop.points]}


def report_vehicle(
    device: Device, moment: datetime, env: Environment, interval_s: float | None
) -> dict[str, Any]:
    """Where the vehicle is: driving its round, or (a field crew) waiting near its depot."""
    del env, interval_s
    asset = device.asset
    kind = str(device.attribute("kind", "field_crew"))
    loop = round_of(asset.id, kind, asset.lon, asset.lat)
    if kind == "field_crew":
        lon, lat = loop.to_lonlat(*loop.points[0])
        return {"lon": lon, "lat": lat, "speed_kmh": 0.0, "heading_deg": 0.0}
    lon, lat, heading = loop.at(moment.timestamp() * loop.speed_kmh / 3.6)
    return {"lon": lon, "lat": lat, "speed_kmh": round(loop.speed_kmh, 1), "heading_deg": heading}


def vehicle_attributes(index: int) -> dict[str, Any]:
    """A commune's ``index``-th vehicle: a salting truck, a patrol, a field crew, in turn."""
    return {"kind": KIND_CYCLE[index % len(KIND_CYCLE)]}
