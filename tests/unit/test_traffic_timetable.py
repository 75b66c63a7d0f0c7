"""Timetables: the plan in force by local time and day of week, switches across DST,
checks; green-wave offsets; the RSMP alarm table; the generated fleet's setups."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from beffroi.catalogue.equipment import TRAFFIC_CONTROLLER
from beffroi.catalogue.rsmp import RSMP_ALARMS, fault_of
from beffroi.core.errors import InvalidInput
from beffroi.devices import topics
from beffroi.devices.topics import Channel
from beffroi.simulator.fleet_traffic import controller_setup
from beffroi.traffic.controller import read_timetable
from beffroi.traffic.offsets import green_wave, leg_lengths
from beffroi.traffic.seeding import check_setup
from beffroi.traffic.timetable import SwitchPoint, check_timetable, next_switch, plan_at

PARIS = ZoneInfo("Europe/Paris")
WEEK = (1, 2, 3, 4, 5)
POINTS = [
    SwitchPoint(WEEK, time(0), 1),
    SwitchPoint(WEEK, time(7), 2),
    SwitchPoint(WEEK, time(2, 30), 3),
    SwitchPoint((6, 7), time(9), 4),
]


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock moment of December 2026 (the 7th is a Monday), as controllers read."""
    return datetime(2026, 12, day, hour, minute, tzinfo=PARIS).replace(tzinfo=None)


def test_plan_in_force_looks_back_through_the_week() -> None:
    assert plan_at(POINTS, local(7, 6, 59)) == 3  # Monday
    assert plan_at(POINTS, local(7, 7)) == 2
    assert plan_at(POINTS, local(12, 8)) == 2  # Saturday: Friday's last
    assert plan_at(POINTS, local(13, 23)) == 4  # Sunday
    assert plan_at(POINTS, local(14, 0)) == 1  # Monday again


def test_a_switch_happens_at_local_time_across_the_spring_change() -> None:
    # 29 March 2026: 02:00 CET becomes 03:00 CEST. Friday 27 March, 23:00 CET: Friday's
    # plan 2 runs on until Saturday 09:00 CET.
    before = datetime(2026, 3, 27, 22, 0, tzinfo=UTC)
    assert next_switch(POINTS, before, PARIS) == (datetime(2026, 3, 28, 8, 0, tzinfo=UTC), 4)
    # Monday 00:00 comes after the change: CEST, so Sunday 22:00 UTC (not 23:00).
    saturday = datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
    assert next_switch(POINTS, saturday, PARIS) == (datetime(2026, 3, 29, 22, 0, tzinfo=UTC), 1)
    # Monday 30 March, after the change: 07:00 local is 05:00 UTC (it was 06:00 before).
    monday = datetime(2026, 3, 30, 1, 0, tzinfo=UTC)
    assert next_switch(POINTS, monday, PARIS) == (datetime(2026, 3, 30, 5, 0, tzinfo=UTC), 2)


def test_a_switch_in_the_skipped_hour_applies_at_its_end() -> None:
    sunday = [SwitchPoint((7,), time(0), 1), SwitchPoint((7,), time(2, 30), 2)]
    at = next_switch(sunday, datetime(2026, 3, 28, 23, 30, tzinfo=UTC), PARIS)
    assert at == (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 2)  # 03:00 CEST


def test_a_switch_in_the_repeated_autumn_hour_happens_once_at_its_first() -> None:
    sunday = [SwitchPoint((7,), time(0), 1), SwitchPoint((7,), time(2, 30), 2)]
    at = next_switch(sunday, datetime(2026, 10, 24, 23, 0, tzinfo=UTC), PARIS)
    assert at == (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), 2)  # 02:30 CEST


def test_one_plan_all_week_never_switches() -> None:
    assert next_switch([SwitchPoint(WEEK, time(0), 1)], datetime.now(UTC), PARIS) is None


def test_timetable_checks() -> None:
    errors = check_timetable(
        [SwitchPoint((1, 8), time(7), 9), SwitchPoint((1,), time(7), 1)], {1, 2}
    )
    text = "; ".join(str(e) for e in errors)
    assert "days are ISO weekdays 1 to 7" in text
    assert "no valid plan 9 on this controller" in text
    assert "day 1 at 07:00 is already switched by entry 0" in text
    assert [str(e) for e in check_timetable([], {1})] == [
        "entries: a timetable has at least one switch point"
    ]


def test_green_wave_offsets_are_travel_time_modulo_the_cycle() -> None:
    offsets = green_wave(["A", "B", "C"], [250.0, 500.0], speed_kmh=50, cycle_s=60)
    assert [o.offset_s for o in offsets] == [0, 18, 54]  # 18 s and 54 s at 13.9 m/s
    assert [round(o.distance_m) for o in offsets] == [0, 250, 750]
    wrapped = green_wave(["A", "B"], [1000.0], speed_kmh=36, cycle_s=60)
    assert wrapped[1].offset_s == 100 % 60
    with pytest.raises(ValueError, match="one leg between"):
        green_wave(["A", "B"], [], 50, 60)


def test_legs_are_geodesic() -> None:
    # One hundredth of a degree of latitude near Dijon: about 1,112 m.
    (leg,) = leg_lengths([(5.04, 47.32), (5.04, 47.33)])
    assert 1105 < leg < 1120


def test_every_rsmp_alarm_raises_a_catalogued_fault() -> None:
    catalogued = {f.code for f in TRAFFIC_CONTROLLER.faults}
    assert {a.fault for a in RSMP_ALARMS} <= catalogued
    assert len({a.code for a in RSMP_ALARMS}) == len(RSMP_ALARMS)
    mapped = fault_of(" a0201 ")
    assert mapped is not None
    assert mapped.fault == "signalLampFault"
    assert fault_of("A9999") is None


def test_the_timetable_topics() -> None:
    assert topics.build(topics.timetable("TC-1")) == "beffroi/v1/devices/TC-1/timetable"
    parsed = topics.parse("beffroi/v1/devices/TC-1/timetable/ack")
    assert parsed == topics.timetable_ack("TC-1")
    assert parsed.channel is Channel.TIMETABLE_ACK
    assert topics.parse("beffroi/v1/gateways/G/devices/TC-1/timetable") is None
    assert "beffroi/v1/devices/+/timetable/ack" in topics.hub_subscriptions()


@pytest.mark.parametrize("plans", [1, 2, 4, 8])
def test_generated_setups_pass_every_check(plans: int) -> None:
    for n in range(40):
        cid = f"TC-{n:04d}"
        assert check_setup(cid, controller_setup(cid, plans, n % 13)) == []


def test_a_controller_reads_its_document_and_refuses_others() -> None:
    doc = {
        "version": 3,
        "timezone": "Europe/Paris",
        "entries": [{"days": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "plan": 1}],
        "plans": [{"number": 1, "cycle_s": 60, "offset_s": 5, "stages": []}],
    }
    running = read_timetable(doc)
    assert running.version == 3
    assert running.plan_at(datetime.now(UTC)) == 1
    with pytest.raises(InvalidInput, match="lacks"):
        read_timetable({**doc, "plans": []})
    with pytest.raises(InvalidInput, match="not a timetable"):
        read_timetable({"version": 1})
