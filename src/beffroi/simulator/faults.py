"""Faults at realistic rates, the same for the same seed.

Each rule says how often a device of a type fails (mean hours of exposure between two
faults: every hour, or only lit hours for a lamp) and how long the repair takes. Faults
are a Poisson process: a device draws how much exposure its part will stand (exponential
with that mean), wears it down at each report, and raises the fault at the report where
it is used up. One draw per fault rather than one per report keeps 34,000 lamps cheap,
and the draw is keyed by seed, device, code and moment, so a seed replays the same
faults. A fault clears at the first report after its repair, and a new life is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from beffroi.simulator.lighting import cabinet_lights
from beffroi.simulator.noise import between, draw
from beffroi.simulator.state import (
    BREAKER_TRIPPED,
    SUPPLY_LOSS,
    ActiveFault,
    Device,
    Environment,
)

Detail = Callable[[Device, Environment, datetime], dict[str, Any]]
Applies = Callable[[Device], bool]


class Exposure(StrEnum):
    """What wears a device out: time itself, or only the hours its lamp burns."""

    ALWAYS = "always"
    LIT = "lit"


def _no_detail(device: Device, env: Environment, moment: datetime) -> dict[str, Any]:
    del device, env, moment
    return {}


def _always(device: Device) -> bool:
    del device
    return True


def _lights_offline(device: Device, env: Environment, moment: datetime) -> dict[str, Any]:
    del env, moment
    return {"lights_offline": len(cabinet_lights(device))}


def _tripped_circuit(device: Device, env: Environment, moment: datetime) -> dict[str, Any]:
    circuits = max(int(device.attribute("circuits", 1)), 1)
    circuit = 1 + int(draw(env.seed, "which", device.id, "circuit", moment.timestamp()) * circuits)
    lights = [li for li in cabinet_lights(device) if li.attribute("circuit", 1) == circuit]
    return {"circuit": circuit, "lights_offline": len(lights)}


def _one_of(attribute: str, key: str) -> Detail:
    """Detail naming which one of the device's ``attribute`` (detectors, say) failed."""

    def detail(device: Device, env: Environment, moment: datetime) -> dict[str, Any]:
        count = max(int(device.attribute(attribute, 1)), 1)
        pick = 1 + int(draw(env.seed, "which", device.id, key, moment.timestamp()) * count)
        return {key: pick}

    return detail


def _has(attribute: str) -> Applies:
    return lambda device: int(device.attribute(attribute, 0)) > 0


def _sensor(device: Device, env: Environment, moment: datetime) -> dict[str, Any]:
    sensors = ("no2_ugm3", "pm10_ugm3", "pm25_ugm3", "o3_ugm3")
    pick = int(draw(env.seed, "which", device.id, "sensor", moment.timestamp()) * len(sensors))
    return {"sensor": sensors[pick]}


def _pixels(device: Device, env: Environment, moment: datetime) -> dict[str, Any]:
    return {"pixels": 1 + int(between(0, 40, env.seed, "pixels", device.id, moment.timestamp()))}


@dataclass(frozen=True, slots=True)
class FaultRule:
    """How often a type of device raises a fault, and how long it takes to repair."""

    type: str
    code: str
    mean_hours_between: float
    repair_hours: tuple[float, float]
    exposure: Exposure = Exposure.ALWAYS
    detail: Detail = _no_detail
    applies: Applies = _always


FAULT_RULES: Final[tuple[FaultRule, ...]] = (
    # About one lamp in 2,000 fails per night (12 lit hours); a crew replaces it in days.
    FaultRule("streetlight", "lampFailure", 24_000, (24, 120), Exposure.LIT),
    FaultRule("streetlight", "driverFailure", 100_000, (24, 120), Exposure.LIT),
    # A cabinet loses its supply about once a year, for an hour or two: its lights go dark
    # and silent while its controller, on battery, reports the loss.
    FaultRule("lighting_cabinet", SUPPLY_LOSS, 8_760, (0.5, 4), detail=_lights_offline),
    FaultRule("lighting_cabinet", BREAKER_TRIPPED, 17_520, (2, 24), detail=_tripped_circuit),
    FaultRule("lighting_cabinet", "cabinetDoorOpen", 4_380, (0.25, 2)),
    FaultRule(
        "traffic_controller",
        "detectorFault",
        2_160,
        (4, 72),
        detail=_one_of("detectors", "detector"),
        applies=_has("detectors"),
    ),
    FaultRule("traffic_controller", "signalLampFault", 4_380, (2, 12)),
    # Conflicting greens detected: the controller falls to yellow flash until a technician
    # comes (reported as mode "yellow_flash").
    FaultRule("traffic_controller", "conflictFlash", 35_040, (0.5, 4)),
    FaultRule("traffic_controller", "doorOpen", 8_760, (0.25, 2)),
    FaultRule("traffic_counter", "detectorFault", 4_380, (12, 96)),
    FaultRule("camera", "videoLoss", 4_380, (1, 24)),
    FaultRule("camera", "recordingFailure", 17_520, (2, 48)),
    FaultRule("camera", "tamper", 87_600, (2, 72)),
    FaultRule("bollard", "motorFault", 8_760, (4, 48)),
    FaultRule("message_sign", "pixelFailure", 8_760, (24, 168), detail=_pixels),
    FaultRule("air_quality_station", "sensorFault", 4_380, (12, 96), detail=_sensor),
)

RULES_BY_TYPE: Final[dict[str, tuple[FaultRule, ...]]] = {
    type_key: tuple(r for r in FAULT_RULES if r.type == type_key)
    for type_key in {r.type for r in FAULT_RULES}
}


@dataclass(frozen=True, slots=True)
class FaultChange:
    """A fault raised (``active``) or cleared at ``at``: one event message."""

    code: str
    active: bool
    detail: dict[str, Any]
    at: datetime


def draw_faults(
    device: Device, moment: datetime, env: Environment, rate: float = 1.0
) -> list[FaultChange]:
    """Clear repaired faults and raise new ones for the time since the device's last draw.

    ``rate`` scales every fault rate (0 turns faults off). The device's counters must be
    advanced to ``moment`` first: lit exposure is read from its burning hours.
    """
    changes: list[FaultChange] = []
    for code, fault in list(device.faults.items()):
        if moment >= fault.clears_at:
            del device.faults[code]
            changes.append(FaultChange(code, False, fault.detail, moment))
    lit_hours = max(device.lamp_hours - device.exposure_mark, 0.0)
    device.exposure_mark = device.lamp_hours
    previous = device.last_tick
    hours = 0.0 if previous is None else max((moment - previous).total_seconds() / 3600, 0.0)
    stamp = int(moment.timestamp())
    just_repaired = {change.code for change in changes}
    for rule in RULES_BY_TYPE.get(device.spec.key, ()):
        exposed = lit_hours if rule.exposure is Exposure.LIT else hours
        if rule.code in device.faults or rule.code in just_repaired:
            continue
        if exposed <= 0 or rate <= 0 or not rule.applies(device):
            continue
        left = device.wear.get(rule.code)
        if left is None:  # a new part: how many hours of exposure it will stand
            life = -math.log1p(-draw(env.seed, "life", device.id, rule.code, stamp))
            left = life * rule.mean_hours_between
        left -= exposed * rate
        if left > 0:
            device.wear[rule.code] = left
            continue
        device.wear.pop(rule.code, None)
        repair = between(*rule.repair_hours, env.seed, "repair", device.id, rule.code, stamp)
        detail = rule.detail(device, env, moment)
        device.faults[rule.code] = ActiveFault(
            rule.code, moment, moment + timedelta(hours=repair), detail
        )
        changes.append(FaultChange(rule.code, True, detail, moment))
    return changes
