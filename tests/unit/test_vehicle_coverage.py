"""A salting route's completion from generated tracks: a truck driving part of the route
covers that part, one driving a parallel street does not, a gap in its reports is no
straight line across the town."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pyproj import Transformer
from shapely.geometry import LineString

from beffroi.vehicles.coverage import Fix, completion

START = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
# About 2 km eastwards through Talant, then 1 km northwards.
ROUTE = LineString([(5.000, 47.337), (5.0265, 47.337), (5.0265, 47.346)])


def drive(
    route: LineString,
    upto: float = 1.0,
    *,
    offset_m: float = 0.0,
    speed_kmh: float = 30.0,
    every_s: float = 5.0,
    start: datetime = START,
) -> list[Fix]:
    """A truck's positions every ``every_s`` along ``route`` up to the fraction ``upto``
    of its length, ``offset_m`` north of it (generated in metres, returned in WGS84)."""
    centre = route.centroid
    aeqd = f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m"
    forward = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
    inverse = Transformer.from_crs(aeqd, "EPSG:4326", always_xy=True)
    metric = LineString([forward.transform(x, y) for x, y in route.coords])
    step = speed_kmh / 3.6 * every_s
    end_m = metric.length * upto
    fixes = []
    for i in range(int(end_m // step) + 2):
        point = metric.interpolate(min(i * step, end_m))
        lon, lat = inverse.transform(point.x, point.y + offset_m)
        fixes.append(Fix(start + timedelta(seconds=i * every_s), lon, lat))
    return fixes


def test_a_truck_driving_the_whole_route_completes_it() -> None:
    assert completion(ROUTE, [drive(ROUTE)], 25.0) == pytest.approx(1.0, abs=0.01)


def test_a_truck_driving_half_the_route_completes_half() -> None:
    assert completion(ROUTE, [drive(ROUTE, 0.5)], 25.0) == pytest.approx(0.5, abs=0.02)


def test_two_trucks_add_up_and_overlap_counts_once() -> None:
    first = drive(ROUTE, 0.6)
    reverse = LineString(list(ROUTE.coords)[::-1])
    second = drive(reverse, 0.6, start=START + timedelta(minutes=1))
    assert completion(ROUTE, [first, second], 25.0) == pytest.approx(1.0, abs=0.01)
    assert completion(ROUTE, [first, first], 25.0) == pytest.approx(0.6, abs=0.02)


def test_within_the_tolerance_only() -> None:
    # GPS drifts ten metres: still salted; the parallel street 60 m away is not the route.
    street = LineString(list(ROUTE.coords)[:2])  # eastwards: "north of it" is beside it
    assert completion(street, [drive(street, offset_m=10)], 25.0) > 0.95
    assert completion(street, [drive(street, offset_m=60)], 25.0) < 0.05


def test_a_gap_in_the_reports_is_not_joined() -> None:
    fixes = drive(ROUTE)
    # The tracker is off for the middle of the route: only both ends are known.
    third = len(fixes) // 3
    gapped = [
        *fixes[:third],
        *(Fix(f.ts + timedelta(minutes=10), f.lon, f.lat) for f in fixes[2 * third :]),
    ]
    done = completion(ROUTE, [gapped[:third] + gapped[third:]], 25.0)
    assert done == pytest.approx(2 / 3, abs=0.03)


def test_no_track_no_completion() -> None:
    assert completion(ROUTE, [], 25.0) == 0.0
    assert completion(ROUTE, [[Fix(START, 5.01, 47.337)]], 25.0) < 0.05
