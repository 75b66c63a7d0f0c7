"""The rules of commands that need no broker: moves, verification, who may send what."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from beffroi.catalogue import CATALOGUE, Catalogue, Domain, schema_errors
from beffroi.commands import policy
from beffroi.commands.lifecycle import FINAL, TRANSITIONS, CommandState, can_move
from beffroi.commands.verification import expected_state, judge, shares_state
from beffroi.config import load_settings
from beffroi.core.errors import InvalidInput, PermissionDenied
from beffroi.core.principal import ActorKind, Principal, Role
from beffroi.devices.topics import ReplyStatus

S = CommandState


def person(*roles: Role, domains: tuple[Domain, ...] = ()) -> Principal:
    return Principal(
        name="p", kind=ActorKind.USER, roles=frozenset(roles), domains=frozenset(domains), user_id=7
    )


def test_nothing_leaves_a_final_state_and_every_open_state_can_end() -> None:
    for state in FINAL:
        assert TRANSITIONS[state] == frozenset()
    for state in set(S) - FINAL:
        assert TRANSITIONS[state] & FINAL, state
    assert can_move(S.SENT, S.ACCEPTED)
    assert can_move(S.SENT, S.QUEUED)  # a retry
    assert not can_move(S.ACCEPTED, S.REJECTED)  # accepted, then refused: not a thing
    assert not can_move(S.AWAITING_APPROVAL, S.SENT)  # never sent before its approval


def test_every_reply_status_of_the_device_api_is_a_command_state() -> None:
    # The tracker moves a command to the state its reply names.
    for status in ReplyStatus:
        assert CommandState(status) in TRANSITIONS[S.SENT], status


@pytest.mark.parametrize(
    ("asset_type", "name", "params", "reported", "verdict"),
    [
        ("streetlight", "dim", {"level_pct": 50}, {"level_pct": (50.6, None)}, True),
        ("streetlight", "dim", {"level_pct": 50}, {"level_pct": (80.0, None)}, False),
        ("streetlight", "switch", {"on": False}, {"level_pct": (0.0, None)}, True),
        ("streetlight", "switch", {"on": True}, {"level_pct": (0.0, None)}, False),
        ("streetlight", "dim", {"level_pct": 50}, {"power_w": (20.0, None)}, None),
        ("traffic_controller", "set_plan", {"plan": 3}, {"plan": (4.0, None)}, False),
        ("traffic_controller", "set_plan", {"plan": 3}, {"plan": (3.0, None)}, True),
        ("bollard", "raise", {}, {"position": (None, "up")}, True),
        ("bollard", "raise", {}, {"position": (None, "moving")}, False),
        ("camera", "recording", {"on": True}, {"recording": (1.0, None)}, True),
    ],
)
def test_reported_state_judges_a_command(
    asset_type: str,
    name: str,
    params: dict[str, object],
    reported: dict[str, tuple[float | None, str | None]],
    verdict: bool | None,
) -> None:
    assert judge(expected_state(asset_type, name, params), reported) is verdict


def test_commands_without_a_reported_state_cannot_be_verified() -> None:
    assert expected_state("message_sign", "clear", {}) == {}
    assert expected_state("camera", "set_preset", {"preset": 2}) == {}
    assert shares_state("streetlight", "dim") == {"dim", "switch"}


def test_who_may_send_what() -> None:
    settings = load_settings()
    lighting = person(Role.OPERATOR, domains=(Domain.LIGHTING,))
    checked = policy.check(
        lighting, settings, "streetlight", "dim", {"level_pct": 30}, None, policy.Timing()
    )
    assert not checked.critical
    assert checked.max_attempts == settings.command_max_attempts
    with pytest.raises(PermissionDenied):
        policy.check(
            lighting, settings, "traffic_controller", "set_plan", {"plan": 1}, None, policy.Timing()
        )
    with pytest.raises(PermissionDenied):
        policy.check(
            person(Role.ADMIN),
            settings,
            "camera",
            "goto_preset",
            {"preset": 1},
            "x",
            policy.Timing(),
        )
    with pytest.raises(PermissionDenied):
        policy.check(
            person(Role.VIEWER),
            settings,
            "streetlight",
            "dim",
            {"level_pct": 1},
            None,
            policy.Timing(),
        )
    # Camera commands go only within a video session (the video area checks it).
    with pytest.raises(PermissionDenied, match="within a video session"):
        policy.check(
            person(Role.VIDEO_AGENT),
            settings,
            "camera",
            "goto_preset",
            {"preset": 1},
            "incident",
            policy.Timing(),
        )
    video = policy.check(
        person(Role.VIDEO_AGENT),
        settings,
        "camera",
        "goto_preset",
        {"preset": 1},
        "incident",
        policy.Timing(),
        within_session=True,
    )
    assert not video.needs_approval
    with pytest.raises(PermissionDenied, match="roles"):
        policy.check(
            person(Role.ADMIN),
            settings,
            "camera",
            "goto_preset",
            {"preset": 1},
            "x",
            policy.Timing(),
            within_session=True,
        )


def test_bad_requests_name_their_field() -> None:
    settings = load_settings()
    admin = person(Role.ADMIN)

    def fields(**kw: object) -> list[str]:
        args: dict[str, object] = {
            "asset_type": "traffic_controller",
            "name": "set_mode",
            "params": {"mode": "normal"},
            "reason": None,
            "timing": policy.Timing(),
        } | kw
        with pytest.raises(InvalidInput) as caught:
            policy.check(admin, settings, **args)  # type: ignore[arg-type]
        return [e.field for e in caught.value.errors]

    assert fields(name="dim") == ["name"]
    assert "params.mode" in fields(params={"mode": "disco"})
    assert fields(params={"mode": "dark"}) == ["params.revert_after_min", "reason"]
    assert fields(params={"mode": "dark", "revert_after_min": 2000}, reason="x") == [
        "params.revert_after_min"
    ]
    assert fields(timing=policy.Timing(timeout_s=0)) == ["timeout_s"]
    assert fields(timing=policy.Timing(timeout_s=60, expires_in_s=30)) == ["expires_in_s"]
    held = policy.check(
        admin,
        settings,
        "traffic_controller",
        "set_mode",
        {"mode": "dark", "revert_after_min": 60},
        "works",
        policy.Timing(),
    )
    assert held.critical
    assert held.needs_approval
    assert (
        policy.check(
            admin,
            settings,
            "traffic_controller",
            "priority_request",
            {"line": "1", "direction": "n"},
            None,
            policy.Timing(),
        ).max_attempts
        == 1
    )


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_non_finite_parameters_are_refused_whoever_asks(number: float) -> None:
    # NaN passes minimum and maximum alike: without this check a dim to NaN would leave
    # for the device (the CLI and jobs reach the policy without going through HTTP).
    refusals: list[tuple[str, str, dict[str, Any], list[str]]] = [
        ("streetlight", "dim", {"level_pct": number}, ["params.level_pct"]),
        ("streetlight", "dim", {"level_pct": 50, "ramp_s": number}, ["params.ramp_s"]),
        (
            "traffic_controller",
            "set_mode",
            {"mode": "dark", "revert_after_min": number},
            ["params.revert_after_min"],
        ),
    ]
    for asset_type, name, params, fields in refusals:
        with pytest.raises(InvalidInput) as caught:
            policy.check(
                person(Role.ADMIN), load_settings(), asset_type, name, params, "x", policy.Timing()
            )
        assert [e.field for e in caught.value.errors] == fields, caught.value.errors


@pytest.mark.parametrize(
    ("until", "valid"),
    [
        ("2030-01-01T08:00:00+01:00", True),
        ("2030-01-01T07:00:00Z", True),
        ("2030-01-01T08:00:00", False),  # no offset: which 8 o'clock?
        ("0001-01-01T00:00:00Z", False),
        ("9999-12-31T23:59:59-14:00", False),
        ("soon", False),
    ],
)
def test_instants_in_command_parameters_are_iso_8601_within_range(until: str, valid: bool) -> None:
    params = {"text": "roadworks", "until": until}
    spec = CATALOGUE["message_sign"].command("display")
    assert spec is not None
    errors = schema_errors(spec.params, params, "params")
    assert [e.field for e in errors] == ([] if valid else ["params.until"])


def test_four_eyes() -> None:
    supervisor = person(Role.SUPERVISOR)
    with pytest.raises(PermissionDenied, match="four-eyes"):
        policy.may_approve(supervisor, 7, "p")
    with pytest.raises(PermissionDenied, match="supervisor"):
        policy.may_approve(person(Role.ADMIN), 8, "someone")
    policy.may_approve(supervisor, 8, "someone")


def test_the_catalogue_says_which_commands_switch_equipment_off() -> None:
    off = {
        (t.key, c.name, repr(params))
        for t in CATALOGUE.values()
        for c in t.commands
        for params in ({"on": False}, {"on": 0}, {"level_pct": 0}, {"level_pct": 0.0})
        if c.switches_off(params)
    }
    assert off == {
        ("streetlight", "switch", "{'on': False}"),
        ("streetlight", "dim", "{'level_pct': 0}"),
        ("streetlight", "dim", "{'level_pct': 0.0}"),
        ("lighting_cabinet", "switch", "{'on': False}"),
    }
    dim = CATALOGUE["streetlight"].command("dim")
    assert dim is not None
    assert not dim.switches_off({"level_pct": 1})
    assert not dim.switches_off({"level_pct": False}), "a boolean is no number"
    assert [t.key for t in CATALOGUE.values() if t.cabinet] == ["lighting_cabinet"]


def test_the_catalogue_says_what_meters_lighting_energy() -> None:
    cabinets = CATALOGUE.of_domain(Domain.LIGHTING, cabinet=True)
    assert [(t.key, t.energy_meter) for t in cabinets] == [("lighting_cabinet", "energy_wh")]
    light = CATALOGUE["streetlight"]
    assert light.rated_power == "rated_power_w"
    assert light not in cabinets


def test_a_catalogue_naming_a_meter_it_lacks_is_refused() -> None:
    cabinet = CATALOGUE["lighting_cabinet"]
    with pytest.raises(ValueError, match="energy meter 'power_w' is no counter"):
        Catalogue((replace(cabinet, energy_meter="power_w"),))
    with pytest.raises(ValueError, match="no attribute 'watts'"):
        Catalogue((replace(cabinet, rated_power="watts"),))
