"""Street lighting's electrical model: luminaires and the cabinets that feed them.

A luminaire's level comes, in order, from: its cabinet switching its circuit off; its own
override (a dim or switch command); its cabinet forcing its circuit on; the schedule the
hub delivered to its cabinet, when it has one with a calendar; else the astronomical
clock with the night profile. A failed lamp or driver gives no light. The network is
taken as permanently fed (the luminaire's node switches the lamp), so a circuit "on"
means its lights are ordered lit, and the nodes stay reachable by day.

Energy and burning hours are integrated exactly: time is cut where the level may change
(sunrise, sunset, profile steps, the ends of overrides and ramps) and each piece is
taken at its midpoint, which is exact for constant levels and for linear ramps alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from beffroi.simulator.noise import between, fixed, jitter
from beffroi.simulator.state import BREAKER_TRIPPED, SUPPLY_LOSS, Device, Environment

STANDBY_W: Final = 0.4  # a luminaire's control node, lit or not
DRIVER_LOSS: Final = 0.05  # share of the lamp's power lost in its LED driver
LINE_LOSS: Final = 0.02  # cabling between the cabinet and its luminaires
CONTROLLER_W: Final = 12.0  # the cabinet's controller, modem and contactors
NOMINAL_V: Final = 230.0
DEFAULT_RATED_W: Final = 40.0
LAMP_FAULTS: Final = ("lampFailure", "driverFailure")
# A luminaire has burnt for up to this many hours when the simulation starts.
MAX_INITIAL_HOURS: Final = 40_000.0
CIRCUIT_KEY: Final = "circuit_{n}_on"


def circuit_key(number: int) -> str:
    """The telemetry key (and override key) of a cabinet's circuit."""
    return CIRCUIT_KEY.replace("{n}", str(number))


def light_level(light: Device, moment: datetime, env: Environment) -> float:
    """The light output (%) of a luminaire at ``moment``."""
    # The common case (no fault, no order) goes straight to the programme: this runs for
    # every light at every report.
    if not light.powered or (light.faults and light.has_fault(*LAMP_FAULTS)):
        return 0.0
    cabinet = light.parent
    forced: Any = None
    if cabinet is not None and cabinet.overrides:
        forced = cabinet.override(circuit_key(int(light.attribute("circuit", 1))), moment)
    if forced is False:
        return 0.0
    own = light.override("level_pct", moment) if light.overrides else None
    if own is not None:
        return float(own)
    scheduled = scheduled_level(cabinet, moment, env, light.id)
    return 100.0 if forced is True and scheduled == 0 else scheduled


def scheduled_level(
    cabinet: Device | None, moment: datetime, env: Environment, light_id: str | None = None
) -> float:
    """The level a cabinet's lights (``light_id``: that one) are scheduled at: its
    delivered schedule's (an override's in force, else the calendar's), else the
    built-in night profile's (no schedule yet, or one without a calendar)."""
    schedule = None if cabinet is None else cabinet.schedule
    if schedule is not None:
        level = schedule.level(moment, light_id)
        if level is not None:
            return level
    return env.programme.level(moment)


def _next_scheduled_change(cabinet: Device | None, moment: datetime, env: Environment) -> datetime:
    schedule = None if cabinet is None else cabinet.schedule
    if schedule is not None:
        cut = schedule.next_change(moment)
        if cut is not None:
            return cut
    return env.programme.next_change(moment)


def light_power(light: Device, level: float) -> float:
    """Active power (W) drawn by a luminaire at ``level``: lamp, driver loss, standby."""
    if not light.powered:
        return 0.0
    rated = float(light.attribute("rated_power_w", DEFAULT_RATED_W))
    return STANDBY_W + rated * level / 100 * (1 + DRIVER_LOSS)


def _next_cut(light: Device, moment: datetime, env: Environment) -> datetime:
    """The first moment after ``moment`` when the luminaire's level may change."""
    cut = _next_scheduled_change(light.parent, moment, env)
    owners = [light] if light.parent is None else [light, light.parent]
    for owner in owners:
        for override in owner.overrides.values():
            for edge in (override.since, override.ramp_end, override.until):
                if edge is not None and moment < edge < cut:
                    cut = edge
    return cut


def advance_light(light: Device, moment: datetime, env: Environment) -> None:
    """Integrate the luminaire's energy and burning hours up to ``moment``."""
    start = light.updated_at
    if start is None or moment <= start:
        light.updated_at = moment if start is None else start
        return
    while start < moment:
        end = min(moment, _next_cut(light, start, env))
        level = light_level(light, start + (end - start) / 2, env)
        hours = (end - start).total_seconds() / 3600
        light.energy_wh += light_power(light, level) * hours
        if level > 0:
            light.lamp_hours += hours
        start = end
    light.updated_at = moment


def cabinet_lights(cabinet: Device) -> list[Device]:
    """The luminaires a cabinet feeds and relays for."""
    return [child for child in cabinet.children if child.relayed]


def cabinet_power(cabinet: Device, moment: datetime, env: Environment) -> float:
    """Active power (W) metered at the cabinet: its lights, line losses, its controller."""
    if cabinet.has_fault(SUPPLY_LOSS):
        return 0.0
    lights = sum(light_power(li, light_level(li, moment, env)) for li in cabinet_lights(cabinet))
    return lights * (1 + LINE_LOSS) + CONTROLLER_W


def advance_cabinet(cabinet: Device, moment: datetime, env: Environment) -> None:
    """Advance the cabinet's lights, then its meter by what they drew plus its own losses.

    The lights are advanced first so that the two meters always agree.
    """
    start = cabinet.updated_at
    if start is None or moment <= start:
        cabinet.updated_at = moment if start is None else start
        return
    lights = cabinet_lights(cabinet)
    for light in lights:
        advance_light(light, moment, env)
    drawn = sum(light.energy_wh for light in lights)
    hours = (moment - start).total_seconds() / 3600
    controller = 0.0 if cabinet.has_fault(SUPPLY_LOSS) else CONTROLLER_W * hours
    cabinet.energy_wh += (drawn - cabinet.children_energy_wh) * (1 + LINE_LOSS) + controller
    cabinet.children_energy_wh = drawn
    cabinet.updated_at = moment


def initialise_light(light: Device, env: Environment, moment: datetime) -> None:
    """A luminaire installed some years ago: counters already well on."""
    light.lamp_hours = between(0, MAX_INITIAL_HOURS, env.seed, "hours", light.id)
    rated = float(light.attribute("rated_power_w", DEFAULT_RATED_W))
    # Dimmed nights average about 80 % of full power.
    light.energy_wh = light.lamp_hours * rated * 0.8 * (1 + DRIVER_LOSS)
    light.updated_at = moment


def initialise_cabinet(cabinet: Device, env: Environment, moment: datetime) -> None:
    """A cabinet whose meter has counted its lights' energy (already initialised) so far."""
    lights = cabinet_lights(cabinet)
    cabinet.children_energy_wh = sum(light.energy_wh for light in lights)
    years = between(1, 15, env.seed, "age", cabinet.id)
    cabinet.energy_wh = cabinet.children_energy_wh * (1 + LINE_LOSS) + (CONTROLLER_W * years * 8766)
    cabinet.updated_at = moment


def supply_voltage(env: Environment, cabinet_id: str, phase: int, moment: datetime) -> float:
    """A phase voltage at a cabinet: its own offset, a little noise each minute."""
    offset = 4.0 * (2 * fixed(env.seed, "volts", cabinet_id, phase) - 1)
    noise = 1.5 * jitter(env.seed, "volts", cabinet_id, phase, int(moment.timestamp()) // 60)
    return NOMINAL_V + offset + noise


def report_light(
    light: Device, moment: datetime, env: Environment, interval_s: float | None
) -> dict[str, Any]:
    """A luminaire's telemetry."""
    del interval_s  # counters are cumulative: the report does not depend on the interval
    level = light_level(light, moment, env)
    cabinet = light.parent
    if cabinet is not None:
        phases = int(cabinet.attribute("phases", 1))
        phase = (int(light.attribute("circuit", 1)) - 1) % phases + 1
        volts = supply_voltage(env, cabinet.id, phase, moment)
        volts -= 0.5 + 2.5 * fixed(env.seed, "drop", light.id)  # further down the line
    else:
        volts = supply_voltage(env, light.id, 1, moment)
    return {
        "level_pct": round(level, 1),
        "power_w": round(light_power(light, level), 1),
        "energy_wh": round(light.energy_wh, 1),
        "voltage_v": round(volts, 1),
        "lamp_hours": round(light.lamp_hours, 2),
    }


def report_cabinet(
    cabinet: Device, moment: datetime, env: Environment, interval_s: float | None
) -> dict[str, Any]:
    """A lighting cabinet's telemetry: meter, phase voltages, door, mode, circuits."""
    del interval_s
    supplied = not cabinet.has_fault(SUPPLY_LOSS)
    values: dict[str, Any] = {
        "power_w": round(cabinet_power(cabinet, moment, env), 1),
        "energy_wh": round(cabinet.energy_wh, 1),
    }
    for phase in range(1, int(cabinet.attribute("phases", 1)) + 1):
        volts = supply_voltage(env, cabinet.id, phase, moment) if supplied else 0.0
        values[f"voltage_l{phase}_v"] = round(volts, 1)
    values["door_open"] = cabinet.has_fault("cabinetDoorOpen")
    values["mode"] = cabinet.override("mode", moment) or "automatic"
    lit = scheduled_level(cabinet, moment, env) > 0  # circuits on while lights are due lit
    tripped = cabinet.faults.get(BREAKER_TRIPPED)
    for number in range(1, int(cabinet.attribute("circuits", 1)) + 1):
        forced = cabinet.override(circuit_key(number), moment)
        fed = supplied and (tripped is None or tripped.detail.get("circuit") != number)
        values[circuit_key(number)] = fed and (lit if forced is None else bool(forced))
    return values
