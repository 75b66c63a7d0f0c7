"""Traffic counts aggregated per lane: exact figures from known readings."""

from __future__ import annotations

from datetime import UTC, datetime

from beffroi.mobility.aggregation import aggregate, bucket_of, lane_measure


def t(h: int, m: int) -> datetime:
    return datetime(2026, 3, 2, h, m, tzinfo=UTC)


def test_keys_name_their_lane() -> None:
    assert lane_measure("count") == (0, "count")
    assert lane_measure("lane_2_speed_kmh") == (2, "speed_kmh")
    assert lane_measure("detector_12_occupancy_pct") == (12, "occupancy_pct")
    assert lane_measure("cycle_s") is None
    assert lane_measure("detector_x_count") is None


def test_buckets_align_on_the_hour() -> None:
    assert bucket_of(t(8, 11), 6) == t(8, 6)
    assert bucket_of(t(8, 59), 6) == t(8, 54)
    assert bucket_of(t(8, 59), 60) == t(8, 0)


POINTS = [
    # A counter reporting every 3 minutes on lane 1: 20 + 25 vehicles in 8:00-8:06.
    ("CNT-1", "lane_1_count", t(8, 0), 20.0),
    ("CNT-1", "lane_1_count", t(8, 3), 25.0),
    ("CNT-1", "lane_1_occupancy_pct", t(8, 0), 10.0),
    ("CNT-1", "lane_1_occupancy_pct", t(8, 3), 20.0),
    ("CNT-1", "lane_1_speed_kmh", t(8, 0), 40.0),
    ("CNT-1", "lane_1_speed_kmh", t(8, 3), 50.0),
    # The next 6 minutes: 30 vehicles.
    ("CNT-1", "lane_1_count", t(8, 6), 30.0),
    # A controller's detector 3.
    ("TC-1", "detector_3_count", t(8, 30), 12.0),
    ("TC-1", "cycle_s", t(8, 30), 90.0),
]


def test_six_minute_flow_occupancy_and_speed() -> None:
    rows = {(c.asset_id, c.lane, c.bucket): c for c in aggregate(POINTS, 6)}
    first = rows[("CNT-1", 1, t(8, 0))]
    assert (first.vehicles, first.flow_vph, first.occupancy_pct, first.speed_kmh) == (
        45,
        450.0,
        15.0,
        45.0,
    )
    assert first.samples == 2
    second = rows[("CNT-1", 1, t(8, 6))]
    assert (second.vehicles, second.flow_vph, second.occupancy_pct) == (30, 300.0, None)
    assert rows[("TC-1", 3, t(8, 30))].flow_vph == 120.0
    assert len(rows) == 3


def test_hourly_flow_is_the_hours_vehicles() -> None:
    rows = {(c.asset_id, c.lane): c for c in aggregate(POINTS, 60)}
    assert rows[("CNT-1", 1)].vehicles == 75
    assert rows[("CNT-1", 1)].flow_vph == 75.0
    assert rows[("CNT-1", 1)].bucket == t(8, 0)
    assert rows[("TC-1", 3)].flow_vph == 12.0
