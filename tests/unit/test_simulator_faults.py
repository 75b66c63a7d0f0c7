"""Faults of the simulated fleet: realistic rates, the same for the same seed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from beffroi.catalogue import CATALOGUE
from beffroi.core.errors import InvalidInput
from beffroi.devices.topics import Channel
from beffroi.simulator.faults import FAULT_RULES
from beffroi.simulator.lighting import CONTROLLER_W, LINE_LOSS
from beffroi.simulator.state import BREAKER_TRIPPED, SUPPLY_LOSS, ActiveFault
from tests.unit.test_simulator_behaviours import (
    WEDNESDAY,
    asset,
    at,
    lights,
    make_engine,
    report,
)

NIGHTS = 30
LAMPS = 1000


def _lamp_failures(seed: int, nights: int = NIGHTS) -> list[tuple[str, str, datetime]]:
    """Every lampFailure/driverFailure raised by 1,000 lights over some nights."""
    fleet = [asset("LC-1", "lighting_cabinet"), *lights("LC-1", LAMPS)]
    engine = make_engine(fleet, at(WEDNESDAY, 12), seed=seed, fault_rate=1.0)
    raised = []
    for night in range(1, nights + 1):
        # Wear accumulates between reports: one report a day sees that night's failures.
        moment = at(WEDNESDAY, 12) + timedelta(days=night)
        for light in engine.devices["LC-1"].children:
            for message in engine.tick(light, moment):
                if message.channel is Channel.EVENTS and message.body["active"]:
                    raised.append((light.id, message.body["code"], moment))
    return raised


def test_lamp_failures_are_rare_and_the_same_for_a_seed() -> None:
    first = _lamp_failures(seed=11)
    assert first == _lamp_failures(seed=11)
    assert first[:3] != _lamp_failures(seed=12, nights=8)[:3]
    lamp = [f for f in first if f[1] == "lampFailure"]
    # About 1 in 2,000 per lamp-night (a November night lasts about 15 h): ~19 expected.
    expected = LAMPS * NIGHTS * 15 / 24_000
    assert expected / 2 < len(lamp) < expected * 2


def test_a_failed_lamp_gives_no_light_and_clears_after_repair() -> None:
    fleet = [asset("LC-1", "lighting_cabinet"), *lights("LC-1", 1)]
    engine = make_engine(fleet, at(WEDNESDAY, 20))
    light = engine.devices["SL-LC-1-0"]
    report(engine, light.id, at(WEDNESDAY, 21))
    light.faults["lampFailure"] = ActiveFault(
        "lampFailure", at(WEDNESDAY, 21), at(WEDNESDAY, 22), {}
    )
    assert report(engine, light.id, at(WEDNESDAY, 21, 30))["level_pct"] == 0
    messages = engine.tick(light, at(WEDNESDAY, 22))
    cleared = [m.body for m in messages if m.channel is Channel.EVENTS]
    assert cleared == [{"code": "lampFailure", "active": False, "detail": {}}]
    assert (
        next(m for m in messages if m.channel is Channel.TELEMETRY).body["values"]["level_pct"]
        == 100
    )


def test_supply_loss_silences_the_cabinets_lights_until_it_is_back() -> None:
    fleet = [asset("LC-1", "lighting_cabinet"), *lights("LC-1", 3)]
    # A huge rate makes every rule fire at the first interval that has exposure.
    engine = make_engine(fleet, at(WEDNESDAY, 20), fault_rate=1e6)
    cabinet = engine.devices["LC-1"]
    engine.tick(cabinet, at(WEDNESDAY, 20))
    messages = engine.tick(cabinet, at(WEDNESDAY, 20, 15))
    events = {m.body["code"]: m.body for m in messages if m.channel is Channel.EVENTS}
    assert events[SUPPLY_LOSS]["active"] is True
    assert events[SUPPLY_LOSS]["detail"] == {"lights_offline": 3}
    statuses = [m for m in messages if m.channel is Channel.STATUS]
    assert {m.device.id for m in statuses} == {c.id for c in cabinet.children}
    assert all(m.body == {"online": False} for m in statuses)
    values = next(m.body["values"] for m in messages if m.channel is Channel.TELEMETRY)
    assert values["power_w"] == 0
    assert values["voltage_l1_v"] == 0
    for light in cabinet.children:
        assert engine.tick(light, at(WEDNESDAY, 20, 30)) == []
        assert engine.hello(cabinet)[1:][0].body == {"online": False}
    # Repaired: the lights say they are back, then report again.
    engine.fault_rate = 0.0
    repaired = max(fault.clears_at for fault in cabinet.faults.values())
    messages = engine.tick(cabinet, repaired + timedelta(minutes=1))
    back = [m for m in messages if m.channel is Channel.STATUS]
    assert {m.device.id for m in back} == {c.id for c in cabinet.children}
    assert all(m.body["online"] is True for m in back)
    light = cabinet.children[0]
    assert report(engine, light.id, repaired + timedelta(minutes=2))["level_pct"] > 0


def test_a_tripped_breaker_darkens_only_its_circuit() -> None:
    fleet = [asset("LC-1", "lighting_cabinet", circuits=2)]
    fleet += [
        asset(f"SL-{i}", "streetlight", "LC-1", rated_power_w=40.0, circuit=1 + i % 2)
        for i in range(4)
    ]
    engine = make_engine(fleet, at(WEDNESDAY, 21))
    cabinet = engine.devices["LC-1"]
    cabinet.faults[BREAKER_TRIPPED] = ActiveFault(
        BREAKER_TRIPPED, at(WEDNESDAY, 21), at(WEDNESDAY, 23), {"circuit": 2}
    )
    values = report(engine, "LC-1", at(WEDNESDAY, 22))
    assert values["circuit_1_on"] is True
    assert values["circuit_2_on"] is False
    assert engine.tick(engine.devices["SL-1"], at(WEDNESDAY, 22)) == []  # circuit 2
    assert report(engine, "SL-0", at(WEDNESDAY, 22))["level_pct"] == 100  # circuit 1
    lights_w = report(engine, "SL-0", at(WEDNESDAY, 22))["power_w"] * 2
    assert values["power_w"] == pytest.approx(lights_w * (1 + LINE_LOSS) + CONTROLLER_W, abs=0.2)


def test_a_conflict_flash_puts_the_controller_in_yellow_flash() -> None:
    engine = make_engine([asset("TC-1", "traffic_controller", plans=2)], at(WEDNESDAY, 9))
    controller = engine.devices["TC-1"]
    controller.faults["conflictFlash"] = ActiveFault(
        "conflictFlash", at(WEDNESDAY, 9), at(WEDNESDAY, 10), {}
    )
    assert report(engine, "TC-1", at(WEDNESDAY, 9, 30))["mode"] == "yellow_flash"
    assert report(engine, "TC-1", at(WEDNESDAY, 10, 1))["mode"] == "normal"


def test_fault_rules_name_faults_of_their_type() -> None:
    for rule in FAULT_RULES:
        assert CATALOGUE[rule.type].fault(rule.code) is not None, rule
        assert rule.repair_hours[0] <= rule.repair_hours[1]


@pytest.mark.parametrize(("rate", "some"), [(0.0, False), (100.0, True)])
def test_fault_rate_scales_every_rule(rate: float, some: bool) -> None:
    fleet = [asset("LC-1", "lighting_cabinet"), *lights("LC-1", 50)]
    engine = make_engine(fleet, at(WEDNESDAY, 12), fault_rate=rate)
    for hour in range(1, 48, 4):
        for device in engine.devices.values():
            engine.tick(device, at(WEDNESDAY, 12) + timedelta(hours=hour))
    assert (engine.stats.faults_raised > 0) is some


def test_a_fault_can_be_caused_on_purpose_and_is_repaired_like_any() -> None:
    fleet = [asset("LC-1", "lighting_cabinet"), *lights("LC-1", 2)]
    engine = make_engine(fleet, at(WEDNESDAY, 20), fault_rate=0.0)
    raised = engine.break_down("LC-1", SUPPLY_LOSS, at(WEDNESDAY, 21), repair_hours=2)
    assert raised[0].body == {"code": SUPPLY_LOSS, "active": True, "detail": {}}
    # The cabinet's lights go dark with it; asking again while it lasts says nothing more.
    assert [m.channel for m in raised[1:]] == [Channel.STATUS, Channel.STATUS]
    assert engine.break_down("LC-1", SUPPLY_LOSS, at(WEDNESDAY, 22)) == []
    cleared = engine.tick(engine.devices["LC-1"], at(WEDNESDAY, 23))
    assert {"code": SUPPLY_LOSS, "active": False, "detail": {}} in [
        m.body for m in cleared if m.channel is Channel.EVENTS
    ]
    # Repaired on purpose, ahead of time: cleared once, and the lights are back.
    engine.break_down("LC-1", SUPPLY_LOSS, at(WEDNESDAY, 23, 30))
    repaired = engine.repair("LC-1", SUPPLY_LOSS, at(WEDNESDAY, 23, 45))
    assert repaired[0].body == {"code": SUPPLY_LOSS, "active": False, "detail": {}}
    assert engine.repair("LC-1", SUPPLY_LOSS, at(WEDNESDAY, 23, 50)) == []
    with pytest.raises(InvalidInput, match="streetlight has no fault 'conflictFlash'"):
        engine.break_down("SL-LC-1-0", "conflictFlash", at(WEDNESDAY, 21))
    with pytest.raises(InvalidInput, match="no simulated device 'NOPE'"):
        engine.break_down("NOPE", SUPPLY_LOSS, at(WEDNESDAY, 21))
