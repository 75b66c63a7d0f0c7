"""Green waves: the offsets that let a platoon driving at the design speed meet green at
every intersection of a corridor, as pure functions.

The first intersection keeps offset 0; each next one starts its cycle later by the travel
time from the first (distance / speed), modulo the common cycle. Distances between
intersections are geodesic, from their positions (pyproj's WGS 84 ellipsoid), unless the
corridor stores measured ones (a road that bends is longer than the straight line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from pyproj import Geod

_WGS84 = Geod(ellps="WGS84")


@dataclass(frozen=True, slots=True)
class Offset:
    """An intersection's place on the corridor and the offset computed for it."""

    controller_id: str
    distance_m: float  # from the first intersection, along the corridor
    travel_s: float
    offset_s: int


def leg_lengths(positions: Sequence[tuple[float, float]]) -> list[float]:
    """The geodesic length in metres of each leg between consecutive ``(lon, lat)``
    positions (one fewer than the positions)."""
    out = []
    for (lon1, lat1), (lon2, lat2) in pairwise(positions):
        _, _, metres = _WGS84.inv(lon1, lat1, lon2, lat2)
        out.append(float(metres))
    return out


def green_wave(
    controller_ids: Sequence[str], legs_m: Sequence[float], speed_kmh: float, cycle_s: int
) -> list[Offset]:
    """The offset of each intersection, in order, given the legs between them (metres),
    the design speed and the common cycle: travel time from the first, modulo the cycle,
    rounded to the second controllers count in."""
    if len(legs_m) != max(len(controller_ids) - 1, 0):
        raise ValueError("one leg between each pair of consecutive intersections")
    if speed_kmh <= 0 or cycle_s <= 0:
        raise ValueError("speed and cycle must be positive")
    speed_ms = speed_kmh / 3.6
    out = []
    distance = 0.0
    for index, controller_id in enumerate(controller_ids):
        if index:
            distance += legs_m[index - 1]
        travel = distance / speed_ms
        out.append(Offset(controller_id, distance, travel, round(travel) % cycle_s))
    return out
