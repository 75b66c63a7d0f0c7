"""The simulated traffic controllers: they run the timetable the hub delivers (plans
switching at its local times), return to it by themselves at the end of a plan imposed
by hand while the hub says nothing, and take their own line of a green wave."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson

from beffroi.devices.topics import Channel
from beffroi.simulator.engine import Engine
from tests.unit.test_simulator_behaviours import WEDNESDAY, asset, at, make_engine, report
from tests.unit.test_simulator_commands import command, statuses

TIMETABLE: dict[str, Any] = {
    "version": 2,
    "timezone": "Europe/Paris",
    "controller_id": "TC-1",
    "entries": [
        {"days": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "plan": 5},
        {"days": [1, 2, 3, 4, 5, 6, 7], "start": "10:15", "plan": 6},
    ],
    "plans": [
        {"number": 5, "cycle_s": 72, "offset_s": 11, "stages": []},
        {
            "number": 6,
            "cycle_s": 96,
            "offset_s": 7,
            "stages": [{"stage": "S1", "split_s": 60}, {"stage": "S2", "split_s": 36}],
        },
    ],
}


def engine_with_timetable() -> Engine:
    controller = asset("TC-1", "traffic_controller", plans=4, detectors=1)
    engine = make_engine([controller], at(WEDNESDAY, 9))
    (ack,) = engine.take_timetable("TC-1", orjson.dumps(TIMETABLE), at(WEDNESDAY, 9))
    assert (ack.channel, ack.body) == (Channel.TIMETABLE_ACK, {"version": 2})
    return engine


def test_a_controller_runs_its_delivered_timetable() -> None:
    engine = engine_with_timetable()
    before = report(engine, "TC-1", at(WEDNESDAY, 10, 14))
    assert (before["plan"], before["cycle_s"], before["offset_s"]) == (5, 72, 11)
    assert before["timetable_version"] == 2
    after = report(engine, "TC-1", at(WEDNESDAY, 10, 16))
    assert (after["plan"], after["cycle_s"], after["plan_source"]) == (6, 96, "timetable")
    assert after["stage"] == (1 if after["cycle_second"] < 60 else 2)
    # An older version, or not a timetable: the running one is acknowledged, kept.
    older = {**TIMETABLE, "version": 1, "entries": TIMETABLE["entries"][:1]}
    (ack,) = engine.take_timetable("TC-1", orjson.dumps(older), at(WEDNESDAY, 10, 17))
    assert ack.body == {"version": 2}
    assert engine.take_timetable("TC-1", b"{}", at(WEDNESDAY, 10, 17)) == []
    assert report(engine, "TC-1", at(WEDNESDAY, 10, 18))["plan"] == 6


def test_signal_groups_show_the_running_stage() -> None:
    """K1 and P2 green in stage S1, K2 and P1 in S2 (the generated intersection); a vehicle
    group ends its stage on amber, a pedestrian group on red (its clearance)."""
    engine = engine_with_timetable()
    start = at(WEDNESDAY, 10, 16)
    seen = {}
    for second in range(96):
        values = report(engine, "TC-1", start + timedelta(seconds=second))
        groups = tuple(values[f"group_{n}_state"] for n in range(1, 5))
        seen[values["stage"], values["cycle_second"]] = groups
    # Plan 6: S1 for 60 s, S2 for 36 s; offset 7.
    assert seen[1, 10] == ("green", "red", "red", "green")
    assert seen[1, 58] == ("amber", "red", "red", "red")
    assert seen[1, 54] == ("green", "red", "red", "green")
    assert seen[1, 55] == ("green", "red", "red", "red")
    assert seen[1, 56] == ("green", "red", "red", "red")
    assert seen[1, 57] == ("amber", "red", "red", "red")
    assert seen[2, 60] == ("red", "green", "green", "red")
    assert seen[2, 94] == ("red", "amber", "red", "red")
    assert not any("green" in g and "amber" in g for g in seen.values())
    # Yellow flash (the safety monitor took over) shows on every group.
    engine.break_down("TC-1", "conflictFlash", start + timedelta(minutes=2))
    flashing = report(engine, "TC-1", start + timedelta(minutes=3))
    assert flashing["control_state"] == "yellow_flash"
    assert {flashing[f"group_{n}_state"] for n in range(1, 5)} == {"amber_flashing"}


def test_a_plan_imposed_by_hand_ends_by_itself_while_the_hub_is_silent() -> None:
    engine = engine_with_timetable()
    start = at(WEDNESDAY, 10, 30)
    until = start + timedelta(minutes=20)
    now, later = command(engine, "TC-1", "set_plan", start, plan=5, until=until.isoformat())
    assert statuses(now) == ["accepted"]
    assert until in {item.at for item in later}
    during = report(engine, "TC-1", start + timedelta(minutes=10))
    assert (during["plan"], during["plan_source"]) == (5, "manual")
    # No message from the hub: at its end the controller is back on its timetable.
    after = report(engine, "TC-1", until + timedelta(seconds=1))
    assert (after["plan"], after["plan_source"]) == (6, "timetable")
    # A plan its timetable lacks is refused.
    refused, _ = command(engine, "TC-1", "set_plan", start, command_id="c2", plan=3)
    assert statuses(refused) == ["rejected"]


def test_a_green_wave_gives_each_controller_its_offset() -> None:
    engine = engine_with_timetable()
    start = at(WEDNESDAY, 11)
    offsets = {"TC-1": 33, "TC-2": 0}
    now, _ = command(
        engine,
        "TC-1",
        "apply_green_wave",
        start,
        corridor="Av",
        plan=6,
        cycle_s=96,
        offsets=offsets,
    )
    assert statuses(now) == ["accepted"]
    wave = report(engine, "TC-1", start + timedelta(minutes=1))
    assert (wave["plan"], wave["offset_s"], wave["plan_source"]) == (6, 33, "corridor")
    resumed, _ = command(engine, "TC-1", "resume_timetable", start, command_id="c3")
    assert statuses(resumed) == ["accepted"]
    back = report(engine, "TC-1", start + timedelta(minutes=2))
    assert (back["offset_s"], back["plan_source"]) == (7, "timetable")
