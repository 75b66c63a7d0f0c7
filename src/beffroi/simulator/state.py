"""The mutable state of simulated devices, and the world they live in.

One :class:`Device` record serves every type: what differs between types is data (the
catalogue entry) and the behaviour functions, not the record. Everything a command sets
is an :class:`Override` keyed by the telemetry key it changes, so "what does the device
report now" is always "the override in force, else the behaviour's own value".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from beffroi.catalogue.spec import EquipmentType
from beffroi.core.sun import LightingProgramme, SunCalendar
from beffroi.lighting.controller import RunningSchedule
from beffroi.simulator.assets import SimAsset
from beffroi.traffic.controller import RunningTimetable

# Types whose messages their parent relays as a field gateway (docs/device-api.md: a lighting
# cabinet's controller relays for its luminaires). Every other device talks for itself.
RELAYED_TYPES = frozenset({"streetlight"})
SUPPLY_LOSS = "supplyLoss"
BREAKER_TRIPPED = "circuitBreakerTripped"
POWER_FAULTS = frozenset({SUPPLY_LOSS, BREAKER_TRIPPED})  # a cabinet's: its lights go dark


@dataclass(frozen=True, slots=True)
class Override:
    """A value a command set, in force from ``since`` until ``until`` (``None``: until
    changed again).

    During ``ramp_s`` after ``since`` a number moves linearly from ``start`` (a dim with a
    ramp); a value with ``during_ramp`` reports that instead (a bollard is "moving").
    """

    value: Any
    since: datetime
    until: datetime | None = None
    ramp_s: float = 0.0
    start: float | None = None
    during_ramp: Any = None

    @property
    def ramp_end(self) -> datetime:
        """When the ramp (or movement) is over."""
        return self.since + timedelta(seconds=self.ramp_s)

    def active(self, moment: datetime) -> bool:
        """Whether the override is in force at ``moment``."""
        return self.since <= moment and (self.until is None or moment < self.until)

    def value_at(self, moment: datetime) -> Any:
        """The value reported at ``moment`` (the override being in force)."""
        if self.ramp_s > 0 and moment < self.ramp_end:
            if self.during_ramp is not None:
                return self.during_ramp
            if self.start is not None:
                share = (moment - self.since).total_seconds() / self.ramp_s
                return self.start + (float(self.value) - self.start) * share
        return self.value


@dataclass(frozen=True, slots=True)
class ActiveFault:
    """A fault a device raised and has not cleared yet."""

    code: str
    since: datetime
    clears_at: datetime
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Environment:
    """What every behaviour shares: the seed, the sun and the lights' clock."""

    seed: int
    sun: SunCalendar
    programme: LightingProgramme

    @property
    def zone(self) -> ZoneInfo:
        """The city's time zone (timetables and dimming profiles are in local time)."""
        return self.sun.zone


@dataclass(slots=True, eq=False)
class Device:
    """One simulated device and everything that changes about it."""

    asset: SimAsset
    spec: EquipmentType
    parent: Device | None = None
    relayed: bool = False  # its parent publishes and subscribes for it
    children: list[Device] = field(default_factory=list)
    updated_at: datetime | None = None  # counters (energy, hours) are integrated up to here
    last_tick: datetime | None = None
    energy_wh: float = 0.0
    lamp_hours: float = 0.0
    exposure_mark: float = 0.0  # lamp_hours when faults were last drawn
    children_energy_wh: float = 0.0  # a cabinet: its lights' meters at its last advance
    faults: dict[str, ActiveFault] = field(default_factory=dict)
    wear: dict[str, float] = field(default_factory=dict)  # exposure hours left, per fault
    overrides: dict[str, Override] = field(default_factory=dict)
    # A lighting cabinet: the schedule the hub delivered, which its lights then follow.
    schedule: RunningSchedule | None = None
    # A traffic controller: the timetable the hub delivered, which picks its plans.
    timetable: RunningTimetable | None = None

    @property
    def id(self) -> str:
        """The asset id, which is also the device's MQTT identity."""
        return self.asset.id

    @property
    def gateway(self) -> Device | None:
        """The device that relays this one's messages, if any."""
        return self.parent if self.relayed else None

    @property
    def identity(self) -> Device:
        """The device whose MQTT connection carries this one's messages."""
        return self.parent if self.relayed and self.parent is not None else self

    @property
    def powered(self) -> bool:
        """False while its cabinet has lost supply, or the breaker of its circuit tripped:
        the device is then dark and silent."""
        parent = self.parent
        if not self.relayed or parent is None or not parent.faults:
            return True
        if SUPPLY_LOSS in parent.faults:
            return False
        tripped = parent.faults.get(BREAKER_TRIPPED)
        return tripped is None or tripped.detail.get("circuit") != self.attribute("circuit", 1)

    def attribute(self, name: str, default: Any) -> Any:
        """An attribute of the asset, or ``default`` when the registry has none."""
        value = self.asset.attributes.get(name)
        return default if value is None else value

    def override(self, key: str, moment: datetime) -> Any | None:
        """The value a command set for ``key``, if one is in force at ``moment``."""
        found = self.overrides.get(key)
        if found is None or not found.active(moment):
            return None
        return found.value_at(moment)

    def prune_overrides(self, moment: datetime) -> None:
        """Forget overrides that ended by ``moment``: the schedule is back in charge."""
        ended = [k for k, o in self.overrides.items() if o.until is not None and o.until <= moment]
        for key in ended:
            del self.overrides[key]

    def has_fault(self, *codes: str) -> bool:
        """Whether any of ``codes`` is active."""
        return any(code in self.faults for code in codes)
