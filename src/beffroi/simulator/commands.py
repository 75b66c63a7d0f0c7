"""How devices obey commands (``…/commands/{command_id}``) and what they answer.

A command that cannot be valid — unknown name, parameters that break the catalogue's
JSON Schema or the device's own limits, expired — is ``rejected`` at once. Otherwise the
device answers ``accepted``, changes its state (an :class:`~.state.Override`) and, when
the work is done (a ramp, a bollard's travel, the radio round trip), ``succeeded`` — or
``failed`` when its fault forbids it, or at random at ``failure_rate`` (drawn from the
command id, so a seed replays it). Its next telemetry shows the new state.

The handlers are one small function per (type, command), in :data:`HANDLERS`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson

from beffroi.catalogue import CATALOGUE, schema_errors
from beffroi.core.errors import FieldError
from beffroi.devices.topics import ReplyStatus
from beffroi.simulator import curves
from beffroi.simulator.behaviours import scheduled_position
from beffroi.simulator.lighting import circuit_key, light_level
from beffroi.simulator.noise import draw
from beffroi.simulator.orders import (
    RADIO_S,
    SHORT_S,
    Effect,
    Failed,
    Handler,
    Order,
    Outcome,
    Refused,
    Reply,
    parse_instant,
    working,
)
from beffroi.simulator.state import SUPPLY_LOSS, Device, Environment, Override
from beffroi.simulator.traffic_orders import (
    traffic_green_wave,
    traffic_priority,
    traffic_resume_timetable,
    traffic_set_mode,
    traffic_set_plan,
)

PTZ_TRAVEL_S: Final = 3.0
BOLLARD_TRAVEL_S: Final = 6.0


# --- handlers ----------------------------------------------------------------------------


def _light_override(order: Order, level: float, ramp_s: float = 0.0) -> Effect:
    light = order.device
    working(light, "lampFailure", "driverFailure")
    current = light_level(light, order.moment, order.env)
    # A manual order holds until the astronomical clock next switches, then the
    # programme is back in charge (as lighting management systems do).
    light.overrides["level_pct"] = Override(
        float(level),
        order.moment,
        until=order.env.sun.next_switch(order.moment),
        ramp_s=ramp_s,
        start=current,
    )
    return Effect(duration_s=max(RADIO_S, ramp_s))


def light_switch(order: Order) -> Effect:
    """Streetlight ``switch(on)``: full light or off."""
    return _light_override(order, 100.0 if order.params["on"] else 0.0)


def light_dim(order: Order) -> Effect:
    """Streetlight ``dim(level_pct, ramp_s)``."""
    level = float(order.params["level_pct"])
    if not order.device.attribute("dimmable", True) and level not in (0.0, 100.0):
        raise Refused("luminaire is not dimmable", level_pct=level)
    return _light_override(order, level, float(order.params.get("ramp_s", 0)))


def cabinet_switch(order: Order) -> Effect:
    """Cabinet ``switch(circuit, on)``: force one circuit's lights on or off."""
    cabinet, number = order.device, int(order.params["circuit"])
    circuits = int(cabinet.attribute("circuits", 1))
    if number > circuits:
        raise Refused("no such circuit", circuit=number, circuits=circuits)
    working(cabinet, SUPPLY_LOSS, "contactorError")
    manual = cabinet.override("mode", order.moment) == "manual"
    until = None if manual else order.env.sun.next_switch(order.moment)
    cabinet.overrides[circuit_key(number)] = Override(bool(order.params["on"]), order.moment, until)
    return Effect()


def cabinet_set_mode(order: Order) -> Effect:
    """Cabinet ``set_mode``: automatic gives the circuits back to the astronomical clock."""
    cabinet, mode = order.device, order.params["mode"]
    cabinet.overrides["mode"] = Override(mode, order.moment)
    if mode == "automatic":
        for key in [k for k in cabinet.overrides if k.startswith("circuit_")]:
            del cabinet.overrides[key]
    return Effect()


def _preset(order: Order) -> int:
    preset, presets = int(order.params["preset"]), int(order.device.attribute("presets", 0))
    if presets == 0:
        raise Refused("camera has no presets (fixed)")
    if preset > presets:
        raise Refused("no such preset", preset=preset, presets=presets)
    return preset


def camera_goto_preset(order: Order) -> Effect:
    """Camera ``goto_preset``: the PTZ head travels there."""
    order.device.overrides["preset"] = Override(_preset(order), order.moment)
    return Effect(duration_s=PTZ_TRAVEL_S)


def camera_set_preset(order: Order) -> Effect:
    """Camera ``set_preset``: store the current position under a preset number."""
    _preset(order)
    return Effect(duration_s=SHORT_S)


def _ptz(order: Order) -> None:
    if int(order.device.attribute("presets", 0)) == 0:
        raise Refused("camera has no pan-tilt-zoom head (fixed)")


def camera_ptz_move(order: Order) -> Effect:
    """Camera ``ptz_move`` and ``ptz_stop``: the head moves off its preset (or stops)."""
    _ptz(order)
    order.device.overrides["preset"] = Override(0, order.moment)
    return Effect(duration_s=SHORT_S)


def camera_start_tour(order: Order) -> Effect:
    """Camera ``start_tour``: the head runs through a preset tour."""
    _ptz(order)
    if (tour := int(order.params["tour"])) > int(order.device.attribute("tours", 0)):
        raise Refused("no such tour", tour=tour)
    order.device.overrides["tour"] = Override(tour, order.moment)
    return Effect(duration_s=SHORT_S)


def camera_stop_tour(order: Order) -> Effect:
    """Camera ``stop_tour``: the tour stops where the head is."""
    _ptz(order)
    order.device.overrides["tour"] = Override(0, order.moment)
    return Effect(duration_s=SHORT_S)


def camera_recording(order: Order) -> Effect:
    """Camera ``recording(on)``."""
    on = bool(order.params["on"])
    if on:
        working(order.device, "videoLoss", "recordingFailure")
    order.device.overrides["recording"] = Override(on, order.moment)
    return Effect()


def _bollard_to(position: str) -> Handler:
    def move(order: Order) -> Effect:
        bollard, env, moment = order.device, order.env, order.moment
        working(bollard, "motorFault", "obstruction")
        # A scheduled bollard goes back to its timetable at the next change.
        until = None
        if bollard.attribute("access", "permanent") == "scheduled":
            until = curves.BOLLARD_POSITION.next_change(env.sun.local(moment)).astimezone(UTC)
        current = bollard.override("position", moment) or scheduled_position(bollard, moment, env)
        travel = 0.0 if current == position else BOLLARD_TRAVEL_S
        bollard.overrides["position"] = Override(
            position, moment, until, ramp_s=travel, during_ramp="moving"
        )
        return Effect(duration_s=max(travel, SHORT_S))

    verb = "raise" if position == "up" else "lower"
    move.__doc__ = f"Bollard ``{verb}``: moving, then {position}."
    return move


def sign_display(order: Order) -> Effect:
    """Message sign ``display(text, until)``: the text must fit the sign."""
    sign, text = order.device, str(order.params["text"])
    room = int(sign.attribute("lines", 3)) * int(sign.attribute("width_chars", 20))
    if len(text) > room:
        raise Refused("text does not fit the sign", length=len(text), room=room)
    until = None
    if "until" in order.params:
        until = order.to_sim(parse_instant(order.params["until"]))
        if until <= order.moment:
            raise Refused("until is in the past")
    sign.overrides["message"] = Override(text, order.moment, until)
    return Effect(changes_at=() if until is None else (until,))


def sign_clear(order: Order) -> Effect:
    """Message sign ``clear``."""
    order.device.overrides.pop("message", None)
    return Effect()


HANDLERS: Final[dict[tuple[str, str], Handler]] = {
    ("streetlight", "switch"): light_switch,
    ("streetlight", "dim"): light_dim,
    ("lighting_cabinet", "switch"): cabinet_switch,
    ("lighting_cabinet", "set_mode"): cabinet_set_mode,
    ("traffic_controller", "set_mode"): traffic_set_mode,
    ("traffic_controller", "set_plan"): traffic_set_plan,
    ("traffic_controller", "resume_timetable"): traffic_resume_timetable,
    ("traffic_controller", "apply_green_wave"): traffic_green_wave,
    ("traffic_controller", "priority_request"): traffic_priority,
    ("camera", "goto_preset"): camera_goto_preset,
    ("camera", "set_preset"): camera_set_preset,
    ("camera", "recording"): camera_recording,
    ("camera", "ptz_move"): camera_ptz_move,
    ("camera", "ptz_stop"): camera_ptz_move,
    ("camera", "start_tour"): camera_start_tour,
    ("camera", "stop_tour"): camera_stop_tour,
    ("bollard", "raise"): _bollard_to("up"),
    ("bollard", "lower"): _bollard_to("down"),
    ("message_sign", "display"): sign_display,
    ("message_sign", "clear"): sign_clear,
}


# --- the protocol ------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _params_errors(type_key: str, name: str, params: bytes) -> tuple[FieldError, ...]:
    """The catalogue's verdict on a command's parameters. Each real device checks on its
    own processor; this process plays thousands of them, and a group command gives them
    all the same parameters: one check serves them all."""
    spec = CATALOGUE[type_key].command(name)
    assert spec is not None
    return tuple(schema_errors(spec.params, orjson.loads(params), "params"))


def _rejected(reason: str, **detail: Any) -> Outcome:
    return Outcome((Reply(ReplyStatus.REJECTED, {"reason": reason, **detail}),))


def obey(
    device: Device,
    payload: bytes | bytearray | dict[str, Any],
    command_id: str,
    moment: datetime,
    env: Environment,
    *,
    wall_now: datetime,
    to_sim: Callable[[datetime], datetime] = lambda wall: wall,
    failure_rate: float = 0.0,
) -> Outcome:
    """Check and carry out one command; the device's counters must be advanced to ``moment``.

    ``wall_now`` judges the command's ``expires_at`` (the hub's clock). The outcome lists
    the replies with their delays and the moments the device's state should be reported.
    """
    try:
        body = payload if isinstance(payload, dict) else orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return _rejected("payload is not JSON", error=str(exc))
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        return _rejected("payload must be an object with a command name")
    name, params = body["name"], body.get("params", {})
    if not isinstance(params, dict):
        return _rejected("params must be an object")
    if body.get("expires_at") is not None:
        try:
            expires = parse_instant(body["expires_at"])
        except (ValueError, OverflowError, OSError) as exc:
            return _rejected("expires_at is not a valid instant", error=str(exc))
        if expires <= wall_now:
            return _rejected("expired", expires_at=expires.isoformat())
    spec = device.spec.command(name)
    handler = HANDLERS.get((device.spec.key, name))
    if spec is None or handler is None:
        known = sorted(c.name for c in device.spec.commands)
        return _rejected("unknown command", command=name, known=known)
    errors = _params_errors(
        device.spec.key, name, orjson.dumps(params, option=orjson.OPT_SORT_KEYS)
    )
    if errors:
        return _rejected("invalid parameters", errors=[e.as_dict() for e in errors])

    accepted = Reply(ReplyStatus.ACCEPTED)
    if draw(env.seed, "command", device.id, command_id) < failure_rate:
        failed = Reply(
            ReplyStatus.FAILED, {"reason": "no confirmation from the equipment"}, RADIO_S
        )
        return Outcome((accepted, failed))
    order = Order(device, params, moment, env, to_sim)
    try:
        effect = handler(order)
    except Refused as exc:
        return Outcome((Reply(ReplyStatus.REJECTED, exc.detail),))
    except Failed as exc:
        return Outcome((accepted, Reply(ReplyStatus.FAILED, exc.detail, RADIO_S)))
    done = moment + timedelta(seconds=effect.duration_s)
    succeeded = Reply(ReplyStatus.SUCCEEDED, {}, effect.duration_s)
    return Outcome((accepted, succeeded), (done, *effect.changes_at))
