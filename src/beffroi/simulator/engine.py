"""The simulated fleet without any I/O: devices, their reports, faults and commands.

The engine is handed moments and gives back :class:`Message` records; it never reads a
clock or touches a socket. The MQTT runner feeds it the simulated time and sends what it
returns; tests feed it whatever time they like.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import orjson
from cachetools import FIFOCache

from beffroi.catalogue import CATALOGUE
from beffroi.core.errors import FieldError, InvalidInput
from beffroi.core.sun import LightingProgramme, SunCalendar
from beffroi.devices.topics import Channel, ReplyStatus
from beffroi.lighting.controller import RunningSchedule, read_schedule
from beffroi.simulator.assets import SimAsset
from beffroi.simulator.behaviours import BEHAVIOURS
from beffroi.simulator.commands import obey
from beffroi.simulator.faults import FaultChange, draw_faults
from beffroi.simulator.noise import draw
from beffroi.simulator.orders import Outcome, Reply
from beffroi.simulator.state import (
    POWER_FAULTS,
    RELAYED_TYPES,
    ActiveFault,
    Device,
    Environment,
)
from beffroi.traffic.controller import read_timetable

TRAFFIC_CONTROLLER_TYPE: Final = "traffic_controller"  # runs a delivered timetable
CABINET: Final = "lighting_cabinet"  # the type whose controller runs a delivered schedule
REMEMBERED_COMMANDS: Final = 10_000  # replies kept to answer a redelivered command alike


@dataclass(frozen=True, slots=True)
class Message:
    """Something a device says. ``at`` stamps telemetry and events (``ts``)."""

    device: Device
    channel: Channel
    body: dict[str, Any]
    at: datetime | None = None
    command_id: str | None = None


@dataclass(frozen=True, slots=True)
class Later:
    """Messages to work out and send once simulated time reaches ``at``."""

    at: datetime
    make: Callable[[datetime], list[Message]]


@dataclass(slots=True)
class EngineStats:
    """What happened in the fleet so far."""

    readings: int = 0
    faults_raised: int = 0
    faults_cleared: int = 0
    commands_received: int = 0
    commands_answered: int = 0
    commands_ignored: int = 0  # not addressed to a simulated device, or malformed topic
    schedules_taken: int = 0  # delivered schedules a cabinet now runs
    schedules_refused: int = 0  # not a schedule document, or not for a simulated cabinet
    by_status: dict[str, int] = field(default_factory=dict)


class Engine:
    """Every simulated device, and how it reports, fails and obeys."""

    def __init__(
        self,
        assets: Sequence[SimAsset],
        *,
        start: datetime,
        latitude: float,
        longitude: float,
        timezone: str = "Europe/Paris",
        seed: int = 1,
        fault_rate: float = 1.0,
        command_failure_rate: float = 0.02,
    ) -> None:
        if fault_rate < 0:
            raise InvalidInput(FieldError("fault_rate", "must be >= 0"))
        if not 0 <= command_failure_rate <= 1:
            raise InvalidInput(FieldError("command_failure_rate", "must be between 0 and 1"))
        sun = SunCalendar(latitude, longitude, timezone)
        self.env = Environment(seed, sun, LightingProgramme(sun))
        self.fault_rate = fault_rate
        self.command_failure_rate = command_failure_rate
        self.stats = EngineStats()
        self.devices = _build_devices(assets)
        self._replies: FIFOCache[tuple[str, str], Reply] = FIFOCache(REMEMBERED_COMMANDS)
        # Lights before their cabinets: a cabinet's meter starts from its lights' meters.
        for device in sorted(self.devices.values(), key=lambda d: bool(d.children)):
            behaviour = BEHAVIOURS[device.spec.key]
            if behaviour.initialise is not None:
                behaviour.initialise(device, self.env, start)
            else:
                device.updated_at = start
            device.exposure_mark = device.lamp_hours  # wear counts from now on

    # --- who connects, and when each device reports ---------------------------------------

    def identities(self) -> list[Device]:
        """The devices that hold an MQTT connection: all but the relayed ones."""
        return [d for d in self.devices.values() if not d.relayed]

    def interval_s(self, device: Device) -> float:
        """Simulated seconds between two reports of ``device`` (the catalogue's)."""
        return float(device.spec.report_interval_s)

    def first_report(self, device: Device, start: datetime) -> datetime:
        """When ``device`` first reports: spread at random over its first interval, so the
        load on the broker is smooth from the start."""
        offset = draw(self.env.seed, "phase", device.id) * self.interval_s(device)
        return start + timedelta(seconds=offset)

    def firmware(self, device: Device) -> str:
        """The firmware version a device announces (a few patch levels in the field)."""
        patch = int(draw(self.env.seed, "firmware", device.id) * 4)
        return f"{BEHAVIOURS[device.spec.key].firmware}.{patch}"

    # --- status ----------------------------------------------------------------------------

    def status(self, device: Device, online: bool) -> Message:
        """A device's (retained) status message."""
        body: dict[str, Any] = {"online": online}
        if online:
            body["firmware"] = self.firmware(device)
        return Message(device, Channel.STATUS, body)

    def hello(self, identity: Device) -> list[Message]:
        """What a connection says on connecting: it is online, and so are its powered
        relayed children (unpowered ones are offline)."""
        relayed = [c for c in identity.children if c.relayed]
        return [self.status(identity, True)] + [self.status(c, c.powered) for c in relayed]

    def goodbye(self, identity: Device) -> list[Message]:
        """What a connection says before it disconnects cleanly: everyone offline."""
        relayed = [c for c in identity.children if c.relayed]
        return [self.status(identity, False)] + [self.status(c, False) for c in relayed]

    # --- reports ---------------------------------------------------------------------------

    def advance(self, device: Device, moment: datetime) -> None:
        """Bring the device's counters (energy, hours) up to ``moment``."""
        advance = BEHAVIOURS[device.spec.key].advance
        if advance is not None:
            advance(device, moment, self.env)
        device.prune_overrides(moment)

    def tick(self, device: Device, moment: datetime) -> list[Message]:
        """A scheduled report at ``moment``: faults raised or cleared, then telemetry.

        An unpowered device (its cabinet lost supply, its breaker tripped) says nothing.
        """
        if not device.powered:
            device.last_tick = moment
            return []
        self.advance(device, moment)
        messages: list[Message] = []
        for change in draw_faults(device, moment, self.env, self.fault_rate):
            messages += self._fault_messages(device, change)
        previous = device.last_tick
        covered = (moment - previous).total_seconds() if previous else self.interval_s(device)
        values = BEHAVIOURS[device.spec.key].report(device, moment, self.env, covered)
        device.last_tick = moment
        if values:
            self.stats.readings += 1
            messages.append(Message(device, Channel.TELEMETRY, {"values": values}, moment))
        return messages

    def state_report(self, device: Device, moment: datetime) -> list[Message]:
        """The device's state alone (no counts over an interval), as after a command."""
        if not device.powered:
            return []
        self.advance(device, moment)
        values = BEHAVIOURS[device.spec.key].report(device, moment, self.env, None)
        return [Message(device, Channel.TELEMETRY, {"values": values}, moment)] if values else []

    def break_down(
        self, device_id: str, code: str, moment: datetime, repair_hours: float = 1.0
    ) -> list[Message]:
        """Make a device raise fault ``code`` at ``moment`` (a drill, a demonstration, a
        test); it is repaired after ``repair_hours`` of simulated time like any fault."""
        device = self.devices.get(device_id)
        if device is None:
            raise InvalidInput(FieldError("device_id", f"no simulated device {device_id!r}"))
        codes = [f.code for f in device.spec.faults]
        if code not in codes:
            raise InvalidInput(
                FieldError("code", f"{device.spec.key} has no fault {code!r}; one of {codes}")
            )
        if code in device.faults:
            return []
        device.faults[code] = ActiveFault(code, moment, moment + timedelta(hours=repair_hours), {})
        return self._fault_messages(device, FaultChange(code, True, {}, moment))

    def repair(self, device_id: str, code: str, moment: datetime) -> list[Message]:
        """Clear fault ``code`` of a device at ``moment``, ahead of its repair time."""
        device = self.devices.get(device_id)
        if device is None:
            raise InvalidInput(FieldError("device_id", f"no simulated device {device_id!r}"))
        fault = device.faults.pop(code, None)
        if fault is None:
            return []
        return self._fault_messages(device, FaultChange(code, False, fault.detail, moment))

    def _fault_messages(self, device: Device, change: FaultChange) -> list[Message]:
        if change.active:
            self.stats.faults_raised += 1
        else:
            self.stats.faults_cleared += 1
        body = {"code": change.code, "active": change.active, "detail": change.detail}
        messages = [Message(device, Channel.EVENTS, body, change.at)]
        if change.code in POWER_FAULTS:
            # The lights it feeds go dark and silent, and come back with the power.
            circuit = change.detail.get("circuit")
            messages += [
                self.status(light, light.powered)
                for light in device.children
                if light.relayed and (circuit is None or light.attribute("circuit", 1) == circuit)
            ]
        return messages

    # --- schedules -------------------------------------------------------------------------

    def take_document(
        self, channel: Channel, device_id: str, payload: bytes, moment: datetime
    ) -> list[Message]:
        """A versioned document for ``device_id``: a cabinet's schedule, or a traffic
        controller's timetable."""
        take = self.take_schedule if channel is Channel.SCHEDULE else self.take_timetable
        return take(device_id, payload, moment)

    def take_schedule(self, cabinet_id: str, payload: bytes, moment: datetime) -> list[Message]:
        """A schedule delivered to a cabinet: it keeps the newest version it was sent and
        acknowledges the version it runs (a repeat, or an older version arriving late,
        gets the running version acknowledged again). Its lights follow it from
        ``moment`` (their counters are brought up to then under the old one)."""
        cabinet = self.devices.get(cabinet_id)
        if cabinet is None or cabinet.spec.key != CABINET:
            self.stats.schedules_refused += 1
            return []
        try:
            delivered = read_schedule(orjson.loads(payload))
        except (orjson.JSONDecodeError, InvalidInput, AttributeError):
            self.stats.schedules_refused += 1
            return []
        running = cabinet.schedule
        if running is None or delivered.version > running.version:
            self.advance(cabinet, moment)
            cabinet.schedule = running = RunningSchedule(delivered)
            self.stats.schedules_taken += 1
        return [Message(cabinet, Channel.SCHEDULE_ACK, {"version": running.version})]

    def take_timetable(self, controller_id: str, payload: bytes, moment: datetime) -> list[Message]:
        """A timetable delivered to a traffic controller: as a cabinet its schedule, it
        keeps the newest version sent and acknowledges the version it runs; its plans
        follow it from ``moment``."""
        controller = self.devices.get(controller_id)
        if controller is None or controller.spec.key != TRAFFIC_CONTROLLER_TYPE:
            self.stats.schedules_refused += 1
            return []
        try:
            delivered = read_timetable(orjson.loads(payload))
        except (orjson.JSONDecodeError, InvalidInput, AttributeError):
            self.stats.schedules_refused += 1
            return []
        running = controller.timetable
        if running is None or delivered.version > running.version:
            controller.timetable = running = delivered
            self.stats.schedules_taken += 1
        return [Message(controller, Channel.TIMETABLE_ACK, {"version": running.version})]

    # --- commands --------------------------------------------------------------------------

    def command(
        self,
        device_id: str,
        gateway_id: str | None,
        command_id: str,
        payload: bytes | bytearray,
        moment: datetime,
        *,
        wall_now: datetime,
        to_sim: Callable[[datetime], datetime] = lambda wall: wall,
    ) -> tuple[list[Message], list[Later]]:
        """Handle a command received on a device's (or its gateway's) command topic.

        Returns the messages to send now and those to send later. A redelivered command
        (same id) gets its final reply again and is not carried out twice.
        """
        device = self.devices.get(device_id)
        gateway = None if device is None or device.gateway is None else device.gateway.id
        if device is None or gateway != gateway_id:
            self.stats.commands_ignored += 1
            return [], []
        self.stats.commands_received += 1
        known = self._replies.get((device_id, command_id))
        if known is not None:
            return [self._reply(device, command_id, known)], []
        if not device.powered:
            outcome = Outcome((Reply(ReplyStatus.FAILED, {"reason": "device unreachable"}),))
        else:
            self.advance(device, moment)
            outcome = obey(
                device,
                payload,
                command_id,
                moment,
                self.env,
                wall_now=wall_now,
                to_sim=to_sim,
                failure_rate=self.command_failure_rate,
            )
        now: list[Message] = []
        later: list[Later] = []
        for reply in outcome.replies:
            if reply.final:
                self._remember(device_id, command_id, reply)
            if reply.after_s <= 0:
                now.append(self._reply(device, command_id, reply))
            else:
                at = moment + timedelta(seconds=reply.after_s)
                later.append(Later(at, self._reply_later(device, command_id, reply)))
        later += [Later(at, self._state_later(device)) for at in outcome.reports_at]
        return now, later

    def _reply(self, device: Device, command_id: str, reply: Reply) -> Message:
        if reply.final:
            self.stats.commands_answered += 1
        self.stats.by_status[reply.status] = self.stats.by_status.get(reply.status, 0) + 1
        body = {"status": reply.status.value, "detail": reply.detail}
        return Message(device, Channel.REPLY, body, command_id=command_id)

    def _reply_later(
        self, device: Device, command_id: str, reply: Reply
    ) -> Callable[[datetime], list[Message]]:
        def make(moment: datetime) -> list[Message]:
            del moment
            return [self._reply(device, command_id, reply)]

        return make

    def _state_later(self, device: Device) -> Callable[[datetime], list[Message]]:
        def make(moment: datetime) -> list[Message]:
            return self.state_report(device, moment)

        return make

    def _remember(self, device_id: str, command_id: str, reply: Reply) -> None:
        self._replies[(device_id, command_id)] = reply


def _build_devices(assets: Sequence[SimAsset]) -> dict[str, Device]:
    """Devices linked to their parents; lights relayed by their cabinet when it is there."""
    errors: list[FieldError] = []
    devices: dict[str, Device] = {}
    for index, asset in enumerate(assets):
        spec = CATALOGUE.get(asset.type)
        if spec is None or asset.type not in BEHAVIOURS:
            errors.append(FieldError(f"assets[{index}].type", f"unknown type {asset.type!r}"))
        elif asset.id in devices:
            errors.append(FieldError(f"assets[{index}].id", f"duplicate id {asset.id!r}"))
        else:
            devices[asset.id] = Device(asset, spec)
    if errors:
        raise InvalidInput(errors, "cannot simulate these assets")
    for device in devices.values():
        parent = devices.get(device.asset.parent_id or "")
        if parent is None:
            continue
        device.parent = parent
        parent.children.append(device)
        device.relayed = device.spec.key in RELAYED_TYPES and parent.spec.key == "lighting_cabinet"
    return devices
