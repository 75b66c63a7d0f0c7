"""Bus priority's pure parts: approach geometry, the feed, passes, the delay estimate."""

from __future__ import annotations

import pytest
from pyproj import Geod

from beffroi.mobility.approach import Position, angle_between, zone_of
from beffroi.mobility.feed import FeedError, encode, parse
from beffroi.mobility.outcomes import delay_saved
from beffroi.mobility.priority import Target, candidates, pass_key

GEOD = Geod(ellps="WGS84")
STOP = (5.0415, 47.3220)  # a stop line in Dijon


def at(distance_m: float, azimuth_from_stop: float) -> tuple[float, float]:
    """The point ``distance_m`` from the stop line on ``azimuth_from_stop``."""
    lon, lat, _ = GEOD.fwd(STOP[0], STOP[1], azimuth_from_stop, distance_m)
    return lon, lat


def bus(
    where: tuple[float, float], bearing: float | None, *, route: str = "L5", ts: float = 1000.0
) -> Position:
    return Position("bus-1", route, "trip-9", where[0], where[1], bearing, ts)


# A sector for buses travelling north (bearing 0) to the stop line, within 150 m.
NORTHBOUND = zone_of(1, "sector", [list(STOP)], 150.0, 0.0, 30.0, ["L5"])
# The same approach drawn as the road: 300 m from the south up to the stop line.
ROAD = zone_of(2, "line", [list(at(300, 180)), list(STOP)], 15.0, None, 30.0, [])


def test_a_bus_south_of_the_stop_line_heading_north_is_on_the_sector() -> None:
    distance = NORTHBOUND.distance_to_stop(bus(at(100, 180), 2.0))
    assert distance == pytest.approx(100.0, abs=0.5)


@pytest.mark.parametrize(
    ("where", "bearing", "why"),
    [
        (at(200, 180), 0.0, "beyond the radius"),
        (at(50, 0), 0.0, "past the stop line, driving away"),
        (at(100, 180), 180.0, "heading away from the intersection"),
        (at(100, 90), 270.0, "coming from the east: another approach"),
    ],
)
def test_a_bus_not_approaching_is_not_on_the_sector(
    where: tuple[float, float], bearing: float, why: str
) -> None:
    assert NORTHBOUND.distance_to_stop(bus(where, bearing)) is None, why


def test_without_a_bearing_the_sector_judges_by_position_alone() -> None:
    assert NORTHBOUND.distance_to_stop(bus(at(80, 185), None)) == pytest.approx(80, abs=0.5)


def test_a_line_approach_measures_what_is_left_to_the_stop_line() -> None:
    on_road = at(120, 180)
    assert ROAD.distance_to_stop(bus(on_road, 0.0)) == pytest.approx(120, abs=1.0)
    # 10 m off the road is within the corridor; 40 m off is a parallel street.
    beside = GEOD.fwd(on_road[0], on_road[1], 90, 10)[:2]
    assert ROAD.distance_to_stop(bus(beside, 0.0)) == pytest.approx(120, abs=1.0)
    away = GEOD.fwd(on_road[0], on_road[1], 90, 40)[:2]
    assert ROAD.distance_to_stop(bus(away, 0.0)) is None
    assert ROAD.distance_to_stop(bus(on_road, 180.0)) is None  # the other way
    assert ROAD.distance_to_stop(bus(at(20, 0), 0.0)) is None  # through the junction


def test_lines_served_and_angles() -> None:
    assert NORTHBOUND.serves("L5")
    assert not NORTHBOUND.serves("L6")
    assert ROAD.serves("anything")
    assert angle_between(350, 10) == 20
    assert angle_between(90, 270) == 180


def test_a_pass_is_a_trip_or_a_time_window() -> None:
    with_trip = bus(STOP, 0.0)
    assert pass_key(with_trip, 600) == "t:trip-9"
    no_trip = Position("bus-2", "L5", "", *STOP, None, 1250.0)
    assert pass_key(no_trip, 600) == "w:2"


def test_candidates_keep_fresh_positions_of_served_lines() -> None:
    target = Target(NORTHBOUND, "TC-1", "dijon", "north")
    positions = [
        bus(at(100, 180), 0.0, ts=1000.0),
        bus(at(100, 180), 0.0, route="L6", ts=1000.0),
        Position("bus-old", "L5", "t", *at(100, 180), 0.0, 900.0),
    ]
    found = candidates([target], positions, now=1010.0, max_age_s=60, pass_s=600)
    assert [(c.position.vehicle_id, c.position.route_id) for c in found] == [("bus-1", "L5")]


def test_the_feed_reads_back_what_was_written_and_skips_unusable_vehicles() -> None:
    good = bus(at(100, 180), 45.0)
    nowhere = Position("bus-x", "L5", "", 0.0, 0.0, None, 1000.0)
    no_route = Position("bus-y", "", "", *STOP, None, 1000.0)
    parsed = parse(encode([good, nowhere, no_route], now=1000.0))
    assert parsed.skipped == 2
    [read] = parsed.positions
    assert (read.vehicle_id, read.route_id, read.trip_id, read.bearing) == (
        "bus-1",
        "L5",
        "trip-9",
        45.0,
    )
    assert read.lon == pytest.approx(good.lon, abs=1e-5)


@pytest.mark.parametrize("data", [b"\xff\xff\xff", b"<html>maintenance</html>", b""])
def test_a_malformed_feed_is_a_feed_error(data: bytes) -> None:
    with pytest.raises(FeedError):
        parse(data)


def test_delay_saved_is_an_eighth_of_the_cycle_else_the_setting() -> None:
    assert delay_saved(96.0, 12.0) == 12.0
    assert delay_saved(72.0, 12.0) == 9.0
    assert delay_saved(None, 10.0) == 10.0
    assert delay_saved(None, 0.0) is None
