"""The demo's buses: they drive through their intersection, enter its approach once per
lap, and their feed on loopback reads back as GTFS-Realtime."""

from __future__ import annotations

import pytest

from beffroi.mobility.approach import zone_of
from beffroi.mobility.feed import HttpFeed, parse
from beffroi.simulator.buses import (
    AFTER_M,
    APPROACH_M,
    BEFORE_M,
    SPEED_MS,
    BusFleet,
    Line,
    feed_on_loopback,
)

STOP = (5.0415, 47.3220)
LAP_S = (BEFORE_M + AFTER_M) / SPEED_MS


def test_a_bus_enters_its_approach_once_per_lap() -> None:
    fleet = BusFleet([Line("D1", *STOP, 0.0)])
    zone = zone_of(1, "sector", [list(STOP)], APPROACH_M, 0.0, 45.0, ["D1"])
    inside = [
        t
        for t in range(int(LAP_S))
        if zone.distance_to_stop(fleet.positions(float(t))[0]) is not None
    ]
    # From 150 m south to the stop line at 5 m/s: 30 seconds of the lap, in one stretch.
    assert inside == list(range(inside[0], inside[0] + 31))
    assert inside[0] == pytest.approx((BEFORE_M - APPROACH_M) / SPEED_MS, abs=1)
    first, next_lap = fleet.positions(0.0)[0], fleet.positions(LAP_S + 1)[0]
    assert first.trip_id != next_lap.trip_id


@pytest.mark.asyncio
async def test_the_feed_on_loopback_serves_every_bus() -> None:
    fleet = BusFleet([Line("D1", *STOP, 0.0), Line("D2", STOP[0] + 0.01, STOP[1], 40.0)])
    async with feed_on_loopback(fleet) as url:
        feed = HttpFeed(url, 2.0)
        try:
            parsed = parse(await feed.read())
        finally:
            await feed.close()
    assert sorted(p.route_id for p in parsed.positions) == ["D1", "D2"]
