"""Simulated devices obeying commands: replies, and telemetry that shows the change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from beffroi.catalogue import CATALOGUE
from beffroi.devices.topics import Channel
from beffroi.simulator.commands import HANDLERS
from beffroi.simulator.engine import Engine, Later, Message
from tests.unit.test_simulator_behaviours import (
    WEDNESDAY,
    asset,
    at,
    lights,
    make_engine,
    report,
    telemetry,
)

WALL = datetime(2026, 3, 1, 12, tzinfo=UTC)  # the hub's clock, for expires_at


def command(
    engine: Engine,
    device_id: str,
    name: str,
    moment: datetime,
    command_id: str = "c1",
    **params: Any,
) -> tuple[list[Message], list[Later]]:
    """Send a command the way the hub does (to the gateway's topic for a relayed light)."""
    device = engine.devices[device_id]
    gateway = device.gateway.id if device.gateway else None
    body = {"name": name, "params": params, "expires_at": (WALL + timedelta(hours=1)).isoformat()}
    return engine.command(device_id, gateway, command_id, orjson.dumps(body), moment, wall_now=WALL)


def statuses(messages: list[Message]) -> list[str]:
    """The reply statuses among ``messages``."""
    return [m.body["status"] for m in messages if m.channel is Channel.REPLY]


def run_later(later: list[Later], until: datetime | None = None) -> list[Message]:
    """Fire deferred messages in time order (those due by ``until``), as the runner does."""
    out: list[Message] = []
    for item in sorted(later, key=lambda item: item.at):
        if until is None or item.at <= until:
            out += item.make(item.at)
    return out


def light_engine() -> Engine:
    return make_engine([asset("LC-1", "lighting_cabinet"), *lights("LC-1", 2)], at(WEDNESDAY, 21))


def test_dim_is_accepted_then_succeeds_and_the_next_telemetry_shows_it() -> None:
    engine = light_engine()
    light = "SL-LC-1-0"
    assert report(engine, light, at(WEDNESDAY, 21, 30))["level_pct"] == 100
    now, later = command(engine, light, "dim", at(WEDNESDAY, 21, 40), level_pct=30)
    assert statuses(now) == ["accepted"]
    done = run_later(later)
    assert statuses(done) == ["succeeded"]
    assert telemetry(done)["level_pct"] == 30  # the state report sent with the success
    assert [m.device.id for m in done] == [light, light]
    values = report(engine, light, at(WEDNESDAY, 22))
    assert values["level_pct"] == 30
    assert values["power_w"] < 0.4 + 40 * 1.05 * 0.31
    assert report(engine, "SL-LC-1-1", at(WEDNESDAY, 22))["level_pct"] == 100  # not its twin
    # The order holds through the night, then the programme is back in charge.
    assert report(engine, light, at(WEDNESDAY, 23, 30))["level_pct"] == 30
    assert report(engine, light, at(WEDNESDAY, 23, 59) + timedelta(hours=18))["level_pct"] == 100


def test_a_dim_with_a_ramp_moves_gradually_and_succeeds_at_its_end() -> None:
    engine = light_engine()
    now, later = command(engine, "SL-LC-1-0", "dim", at(WEDNESDAY, 22), level_pct=0, ramp_s=600)
    assert statuses(now) == ["accepted"]
    assert report(engine, "SL-LC-1-0", at(WEDNESDAY, 22, 5))["level_pct"] == 50
    [succeeded] = [item for item in later if item.at == at(WEDNESDAY, 22, 10)][:1]
    assert statuses(succeeded.make(succeeded.at)) == ["succeeded"]


def test_invalid_parameters_and_unknown_commands_are_rejected_at_once() -> None:
    engine = light_engine()
    moment = at(WEDNESDAY, 22)
    for name, params in (("dim", {"level_pct": 150}), ("dim", {}), ("dim", {"level": 5})):
        now, later = command(engine, "SL-LC-1-0", name, moment, f"bad-{params}", **params)
        assert statuses(now) == ["rejected"]
        assert later == []
        assert now[0].body["detail"]["reason"] == "invalid parameters"
    now, _ = command(engine, "SL-LC-1-0", "explode", moment, "c9")
    assert statuses(now) == ["rejected"]
    assert now[0].body["detail"]["known"] == ["dim", "switch"]
    assert report(engine, "SL-LC-1-0", moment)["level_pct"] == 100


def test_expired_and_malformed_commands_are_rejected() -> None:
    engine = light_engine()
    light = engine.devices["SL-LC-1-0"]
    expired = {"name": "dim", "params": {"level_pct": 5}, "expires_at": "2020-01-01T00:00:00Z"}
    now, _ = engine.command(
        light.id, "LC-1", "old", orjson.dumps(expired), at(WEDNESDAY, 22), wall_now=WALL
    )
    assert statuses(now) == ["rejected"]
    assert now[0].body["detail"]["reason"] == "expired"
    now, _ = engine.command(
        light.id, "LC-1", "junk", b"{not json", at(WEDNESDAY, 22), wall_now=WALL
    )
    assert statuses(now) == ["rejected"]


def test_commands_must_come_the_way_the_device_listens() -> None:
    engine = light_engine()
    body = orjson.dumps({"name": "dim", "params": {"level_pct": 5}})
    # A relayed light listens under its cabinet's gateway topic only.
    assert engine.command("SL-LC-1-0", None, "x", body, at(WEDNESDAY, 22), wall_now=WALL) == (
        [],
        [],
    )
    assert engine.command("nobody", None, "x", body, at(WEDNESDAY, 22), wall_now=WALL) == ([], [])
    assert engine.stats.commands_ignored == 2


def test_set_mode_reverts_by_itself_after_its_delay() -> None:
    controller = asset("TC-1", "traffic_controller", plans=4, detectors=2, bus_priority=True)
    engine = make_engine([controller], at(WEDNESDAY, 10))
    start = at(WEDNESDAY, 10, 30)
    now, later = command(engine, "TC-1", "set_mode", start, mode="yellow_flash", revert_after_min=5)
    assert statuses(now) == ["accepted"]
    assert sorted(item.at for item in later) == [
        start + timedelta(seconds=1),
        start + timedelta(seconds=1),
        start + timedelta(minutes=5),
    ]
    flashing = report(engine, "TC-1", start + timedelta(minutes=1))
    assert flashing["mode"] == "yellow_flash"
    assert flashing["cycle_s"] == 0
    reverted = next(item for item in later if item.at == start + timedelta(minutes=5))
    assert telemetry(reverted.make(reverted.at))["mode"] == "normal"
    assert report(engine, "TC-1", start + timedelta(minutes=6))["mode"] == "normal"


def test_set_mode_other_than_normal_needs_a_revert_delay() -> None:
    engine = make_engine([asset("TC-1", "traffic_controller", plans=2)], at(WEDNESDAY, 10))
    now, _ = command(engine, "TC-1", "set_mode", at(WEDNESDAY, 10), mode="dark")
    assert statuses(now) == ["rejected"]


def test_bollard_moves_then_is_up() -> None:
    engine = make_engine([asset("BOL-1", "bollard", access="scheduled")], at(WEDNESDAY, 8))
    assert report(engine, "BOL-1", at(WEDNESDAY, 8))["position"] == "down"  # delivery window
    moment = at(WEDNESDAY, 9)
    now, later = command(engine, "BOL-1", "raise", moment)
    assert statuses(now) == ["accepted"]
    assert report(engine, "BOL-1", moment + timedelta(seconds=2))["position"] == "moving"
    done = run_later(later)
    assert statuses(done) == ["succeeded"]
    assert telemetry(done)["position"] == "up"
    assert report(engine, "BOL-1", at(WEDNESDAY, 10))["position"] == "up"
    assert report(engine, "BOL-1", at(WEDNESDAY, 12))["position"] == "up"  # timetable again


def test_camera_goes_to_a_preset_it_has() -> None:
    fleet = [asset("CAM-1", "camera", kind="ptz", presets=8), asset("CAM-2", "camera", presets=0)]
    engine = make_engine(fleet, at(WEDNESDAY, 8))
    assert report(engine, "CAM-1", at(WEDNESDAY, 8))["preset"] == 1
    now, later = command(engine, "CAM-1", "goto_preset", at(WEDNESDAY, 9), preset=5)
    assert statuses(now + run_later(later)) == ["accepted", "succeeded"]
    assert report(engine, "CAM-1", at(WEDNESDAY, 9, 5))["preset"] == 5
    now, _ = command(engine, "CAM-1", "goto_preset", at(WEDNESDAY, 9), "c2", preset=9)
    assert statuses(now) == ["rejected"]
    now, _ = command(engine, "CAM-2", "goto_preset", at(WEDNESDAY, 9), preset=1)
    assert statuses(now) == ["rejected"]


def test_message_sign_displays_until_the_given_time() -> None:
    engine = make_engine([asset("VMS-1", "message_sign", lines=2, width_chars=16)], WALL)
    until = (WALL + timedelta(minutes=30)).isoformat()
    now, later = command(engine, "VMS-1", "display", WALL, text="TRAVAUX", until=until)
    assert statuses(now + run_later(later, WALL + timedelta(minutes=1))) == [
        "accepted",
        "succeeded",
    ]
    assert report(engine, "VMS-1", WALL + timedelta(minutes=10))["message"] == "TRAVAUX"
    assert report(engine, "VMS-1", WALL + timedelta(minutes=31))["message"] == ""
    now, _ = command(engine, "VMS-1", "display", WALL, "c2", text="X" * 40)
    assert statuses(now) == ["rejected"]  # does not fit 2 x 16


def test_failures_at_the_configured_rate_and_on_faulty_equipment() -> None:
    fleet = [asset("LC-1", "lighting_cabinet"), *lights("LC-1", 1)]
    engine = make_engine(fleet, at(WEDNESDAY, 21), command_failure_rate=1.0)
    now, later = command(engine, "SL-LC-1-0", "dim", at(WEDNESDAY, 22), level_pct=10)
    assert statuses(now + run_later(later)) == ["accepted", "failed"]
    assert report(engine, "SL-LC-1-0", at(WEDNESDAY, 22, 5))["level_pct"] == 100
    controller = asset("TC-1", "traffic_controller", plans=2)
    engine = make_engine([controller], at(WEDNESDAY, 21))
    from beffroi.simulator.state import ActiveFault

    engine.devices["TC-1"].faults["hardwareFault"] = ActiveFault(
        "hardwareFault", at(WEDNESDAY, 21), at(WEDNESDAY, 23), {}
    )
    now, later = command(
        engine, "TC-1", "set_mode", at(WEDNESDAY, 22), mode="all_red", revert_after_min=10
    )
    assert statuses(now + run_later(later)) == ["accepted", "failed"]


def test_a_redelivered_command_is_answered_alike_and_not_done_twice() -> None:
    engine = light_engine()
    _now, later = command(engine, "SL-LC-1-0", "dim", at(WEDNESDAY, 22), "same", level_pct=40)
    run_later(later)
    again, again_later = command(engine, "SL-LC-1-0", "dim", at(WEDNESDAY, 22, 1), "same")
    assert statuses(again) == ["succeeded"]
    assert again_later == []


def test_every_catalogue_command_has_a_handler() -> None:
    declared = {(t.key, c.name) for t in CATALOGUE.values() for c in t.commands}
    assert declared == set(HANDLERS)
