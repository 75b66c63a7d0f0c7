"""How much of a salting route the trucks covered: pure geometry, in metres.

A stretch of route counts as salted when a salting truck's track passed within the
tolerance of it. Both are projected with pyproj to an azimuthal equidistant projection
centred on the route (``roads.geometry.Metric``), the tracks are buffered by the
tolerance with shapely, and the route's length inside the buffers is compared with its
whole length. A track is a sequence of positions; consecutive positions are joined by a
straight segment unless they are further apart in time than ``gap_s`` (a tracker that was
off, or a truck that left and came back: what it did meanwhile is unknown).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import shapely
from shapely.geometry import LineString, MultiLineString, Point
from shapely.geometry.base import BaseGeometry

from beffroi.roads.geometry import Metric

# Positions further apart in time are not joined: 5 s reports, a minute of silence.
GAP_S = 60.0


@dataclass(frozen=True, slots=True)
class Fix:
    """One position of a track: when, where (WGS84)."""

    ts: datetime
    lon: float
    lat: float


def _pieces(track: Sequence[Fix], gap_s: float) -> list[list[tuple[float, float]]]:
    """The track cut where its positions are too far apart in time."""
    pieces: list[list[tuple[float, float]]] = []
    previous: Fix | None = None
    for fix in sorted(track, key=lambda f: f.ts):
        if previous is None or (fix.ts - previous.ts).total_seconds() > gap_s:
            pieces.append([])
        pieces[-1].append((fix.lon, fix.lat))
        previous = fix
    return pieces


def track_geometry(track: Sequence[Fix], gap_s: float = GAP_S) -> BaseGeometry | None:
    """The track as lines (WGS84), a lone position as a point; None without positions."""
    parts: list[BaseGeometry] = []
    for piece in _pieces(track, gap_s):
        parts.append(LineString(piece) if len(set(piece)) > 1 else Point(piece[0]))
    if not parts:
        return None
    return shapely.union_all(parts)


def completion(
    route: LineString | MultiLineString,
    tracks: Sequence[Sequence[Fix]],
    tolerance_m: float,
    gap_s: float = GAP_S,
) -> float:
    """The fraction (0 to 1) of ``route``'s length within ``tolerance_m`` of the tracks."""
    metric = Metric(route)
    length = metric.projected.length
    if length == 0:
        return 0.0
    covered: list[BaseGeometry] = []
    for track in tracks:
        geometry = track_geometry(track, gap_s)
        if geometry is not None:
            covered.append(metric.project(geometry).buffer(tolerance_m))
    if not covered:
        return 0.0
    inside = metric.projected.intersection(shapely.union_all(covered)).length
    return max(0.0, min(1.0, float(inside / length)))
