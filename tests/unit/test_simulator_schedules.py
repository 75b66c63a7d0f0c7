"""Simulated cabinets run the schedule the hub delivered: they acknowledge its version,
and their lights follow it (the hub's own evaluator, at moments the test chooses), in
place of the built-in night profile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson

from beffroi.devices.topics import Channel
from beffroi.lighting.calendar import parse_calendar
from beffroi.lighting.controller import RunningSchedule, read_schedule
from beffroi.lighting.evaluate import level
from beffroi.lighting.program import parse_program
from beffroi.lighting.schedule import content, override_json
from beffroi.simulator.lighting import light_level, report_cabinet
from tests.unit.test_simulator_behaviours import LAT, LON, asset, make_engine

PARIS = ZoneInfo("Europe/Paris")
EVENING = datetime(2026, 12, 23, 18, 0, tzinfo=PARIS)
PLAIN = parse_program(
    {
        "steps": [
            {"anchor": "sunset", "level_pct": 80, "ramp_s": 600},
            {"anchor": "time", "at": "22:00", "level_pct": 30},
            {"anchor": "sunrise", "level_pct": 0},
        ]
    }
)
FESTIVE = parse_program(
    {"steps": [{"anchor": "sunset", "level_pct": 100}, {"anchor": "sunrise", "level_pct": 0}]}
)
CALENDAR = parse_calendar(
    {
        "rules": [
            {"kind": "dates", "program_id": 2, "dates": ["2026-12-24"], "annual": True},
            {"kind": "holidays", "program_id": 2, "holidays": ["christmas_day"]},
        ],
        "default_program_id": 1,
    }
)
PROGRAMS = {1: PLAIN, 2: FESTIVE}


def document(version: int, *, calendar: bool = True) -> dict[str, object]:
    body = content(
        cabinet_id="LC-S1",
        lat=LAT,
        lon=LON,
        timezone="Europe/Paris",
        calendar_id=1 if calendar else None,
        calendar=CALENDAR if calendar else None,
        programs=PROGRAMS,
        year=2026,
    )
    return {"version": version, **body}


def test_a_delivered_schedule_reads_back_and_runs_as_the_hub_evaluates_it() -> None:
    running = RunningSchedule(read_schedule(orjson.loads(orjson.dumps(document(3)))))
    sun = running.schedule.sun
    moment = EVENING.astimezone(UTC)
    # Three nights, every ten minutes: the ordinary one, Christmas Eve, Christmas night
    # (a holiday rule delivered as its dates).
    while moment < (EVENING + timedelta(days=3)).astimezone(UTC):
        assert running.level(moment) == level(CALENDAR, PROGRAMS, moment, sun), moment
        moment += timedelta(minutes=10)
    # Every 7 seconds through an evening's ramp (600 s from sunset), forth and back: the
    # remembered spans never answer for a moment outside them.
    sunset = sun.day(EVENING.date()).sunset
    moments = [sunset + timedelta(seconds=s) for s in range(-700, 1400, 7)]
    for moment in [*moments, *reversed(moments), *moments[::3]]:
        assert running.level(moment) == level(CALENDAR, PROGRAMS, moment, sun), moment
    at = datetime(2026, 12, 23, 23, 30, tzinfo=PARIS)
    assert running.level(at) == 30
    assert running.level(datetime(2026, 12, 24, 23, 30, tzinfo=PARIS)) == 100
    assert running.level(datetime(2026, 12, 25, 23, 30, tzinfo=PARIS)) == 100
    assert running.level(datetime(2026, 12, 26, 23, 30, tzinfo=PARIS)) == 30
    # The next change after 23:30 is the next sunrise.
    change = running.next_change(at)
    assert change is not None
    assert change.astimezone(PARIS).date() == at.date() + timedelta(days=1)
    assert 7 <= change.astimezone(PARIS).hour <= 9
    assert RunningSchedule(read_schedule(document(1, calendar=False))).level(at) is None


def test_simulated_cabinets_acknowledge_and_follow_their_schedule() -> None:
    fleet = [asset("LC-S1", "lighting_cabinet", circuits=1, phases=1)]
    fleet += [
        asset(f"SL-S{i}", "streetlight", "LC-S1", circuit=1, rated_power_w=40.0) for i in range(3)
    ]
    fleet.append(asset("TC-S1", "traffic_controller", plans=4, detectors=2))
    engine = make_engine(fleet, EVENING)
    cabinet, light = engine.devices["LC-S1"], engine.devices["SL-S0"]
    at = datetime(2026, 12, 23, 23, 30, tzinfo=PARIS)
    # No schedule yet: the built-in night profile (50 % after 23:00).
    assert light_level(light, at, engine.env) == 50

    replies = engine.take_schedule("LC-S1", orjson.dumps(document(2)), EVENING)
    assert [(m.device.id, m.channel, m.body) for m in replies] == [
        ("LC-S1", Channel.SCHEDULE_ACK, {"version": 2})
    ]
    assert light_level(light, at, engine.env) == 30
    assert light_level(light, datetime(2026, 12, 24, 23, 30, tzinfo=PARIS), engine.env) == 100
    assert light_level(light, datetime(2026, 12, 24, 13, 0, tzinfo=PARIS), engine.env) == 0
    assert report_cabinet(cabinet, at, engine.env, None)["circuit_1_on"] is True
    noon = datetime(2026, 12, 24, 13, 0, tzinfo=PARIS)
    assert report_cabinet(cabinet, noon, engine.env, None)["circuit_1_on"] is False
    # Energy follows the schedule too: an hour at 30 % of 40 W, plus standby.
    engine.advance(cabinet, at)
    before = light.energy_wh
    engine.advance(cabinet, at + timedelta(hours=1))
    assert abs(light.energy_wh - before - (0.4 + 40 * 0.3 * 1.05)) < 1e-6

    # An older version arriving late, or the same again: the running one is acknowledged.
    for version in (1, 2):
        replies = engine.take_schedule("LC-S1", orjson.dumps(document(version)), EVENING)
        assert [m.body for m in replies] == [{"version": 2}]
    assert engine.stats.schedules_taken == 1
    # Not a schedule, or not for a cabinet: nothing taken, nothing acknowledged.
    assert engine.take_schedule("LC-S1", b"{}", EVENING) == []
    assert engine.take_schedule("TC-S1", orjson.dumps(document(3)), EVENING) == []
    assert engine.take_schedule("LC-XX", orjson.dumps(document(3)), EVENING) == []
    assert engine.stats.schedules_refused == 3
    # A newer version without a calendar: back to the built-in profile.
    engine.take_schedule("LC-S1", orjson.dumps(document(4, calendar=False)), EVENING)
    assert light_level(light, at, engine.env) == 50


def test_controllers_apply_overrides_and_end_them_by_themselves() -> None:
    at = datetime(2026, 12, 23, 23, 30, tzinfo=PARIS)  # the plain night: 30 %
    start, end = at - timedelta(minutes=30), at + timedelta(hours=1)
    festival = override_json(6, start, end + timedelta(hours=1), 80, None)
    accident = override_json(7, start, end, 100, ["SL-S1"])
    body = {**document(5), "overrides": [festival, accident]}
    running = RunningSchedule(read_schedule(orjson.loads(orjson.dumps(body))))
    # The last listed wins on its light; the festival on the others and the cabinet.
    assert running.level(at, "SL-S1") == 100
    assert running.level(at, "SL-S0") == 80
    assert running.level(at) == 80
    assert running.level(start - timedelta(seconds=1), "SL-S1") == 30
    # The accident ends by itself: the festival shows through, then the program.
    assert running.level(end, "SL-S1") == 80
    assert running.level(end + timedelta(hours=1), "SL-S1") == 30
    # Its ends are changes to come.
    assert running.next_change(at) == end
    assert running.next_change(start - timedelta(minutes=1)) == start
    # An override applies without a calendar too; a schedule without any keeps none.
    bare = {**document(6, calendar=False), "overrides": [festival]}
    assert RunningSchedule(read_schedule(bare)).level(at) == 80
    assert RunningSchedule(read_schedule(document(6))).schedule.overrides == ()

    # A simulated cabinet's lights follow it, energy included.
    fleet = [asset("LC-S1", "lighting_cabinet", circuits=1, phases=1)]
    fleet += [
        asset(f"SL-S{i}", "streetlight", "LC-S1", circuit=1, rated_power_w=40.0) for i in range(2)
    ]
    engine = make_engine(fleet, EVENING)
    engine.take_schedule("LC-S1", orjson.dumps(body), EVENING)
    lit, other = engine.devices["SL-S1"], engine.devices["SL-S0"]
    assert light_level(lit, at, engine.env) == 100
    assert light_level(other, at, engine.env) == 80
    assert light_level(lit, end + timedelta(hours=2), engine.env) == 30
    cabinet = engine.devices["LC-S1"]
    engine.advance(cabinet, at)
    before = lit.energy_wh
    engine.advance(cabinet, end)  # an hour at 100 % of 40 W, plus standby
    assert abs(lit.energy_wh - before - (0.4 + 40 * 1.05)) < 1e-6
