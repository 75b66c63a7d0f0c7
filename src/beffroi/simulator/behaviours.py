"""What each type of equipment reports, as one table of small functions.

A report function gives a device's telemetry values at a moment. ``interval_s`` is the
time the report covers (counts of vehicles are per interval); ``None`` asks for the
device's state alone, as sent right after a command. Values stay inside the catalogue's
ranges; all randomness is drawn from :mod:`beffroi.simulator.noise`, so it depends on the
seed, the device and the moment only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from beffroi.simulator import curves, lighting, signal_groups, winter
from beffroi.simulator.noise import between, fixed, jitter
from beffroi.simulator.state import Device, Environment
from beffroi.traffic.controller import PlanTiming

Values = dict[str, Any]
Report = Callable[[Device, datetime, Environment, "float | None"], Values]
Advance = Callable[[Device, datetime, Environment], None]
Initialise = Callable[[Device, Environment, datetime], None]

LANE_CAPACITY_VPH: Final = 1800.0  # vehicles per hour a lane carries at saturation
NOISE_STEP_S: Final = 300  # measurement noise changes every five minutes


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How one type of equipment behaves: its report, its counters, its starting state."""

    report: Report
    firmware: str
    advance: Advance | None = None
    initialise: Initialise | None = None


def _noise_slot(moment: datetime) -> int:
    return int(moment.timestamp()) // NOISE_STEP_S


def _occupancy_pct(flow_per_lane_vph: float) -> float:
    """Loop occupancy from flow: low and linear-ish, climbing fast near saturation."""
    ratio = min(flow_per_lane_vph / LANE_CAPACITY_VPH, 1.0)
    return min(95.0, 45.0 * float(ratio**1.4))


def _flow_vph(env: Environment, device: Device, channel: int, moment: datetime) -> float:
    """Vehicles per hour on one detector (or lane) at ``moment``."""
    peak = 450 + 650 * fixed(env.seed, "peak", device.id, channel)
    noise = 1 + 0.1 * jitter(env.seed, "flow", device.id, channel, _noise_slot(moment))
    return max(0.0, peak * curves.TRAFFIC.at(env.sun.local(moment)) * noise)


# --- traffic -----------------------------------------------------------------------------


def scheduled_plan(device: Device, moment: datetime, env: Environment) -> int:
    """The timing plan the controller's timetable runs at ``moment``: the one the hub
    delivered, else the built-in day curve (a controller never sent one)."""
    if device.timetable is not None:
        return device.timetable.plan_at(moment)
    plans = int(device.attribute("plans", 4))
    return min(curves.TRAFFIC_PLANS.at(env.sun.local(moment)), plans)


def _running_stage(timing: PlanTiming | None, second: int) -> tuple[int, str, int] | None:
    """The stage running at ``second`` of the cycle: where it falls among the plan's
    splits (its number from 1, its name, the seconds it has left)."""
    start = 0
    for index, (stage, split) in enumerate(timing.splits if timing else (), start=1):
        start += split
        if second < start:
            return index, stage, start - second
    return None


def _timing(device: Device, plan: int, moment: datetime) -> Values:
    """Cycle, offset, position in the cycle and source of the plan running."""
    timing = device.timetable.plans.get(plan) if device.timetable is not None else None
    cycle = timing.cycle_s if timing else curves.CYCLE_S_BY_PLAN.get(plan, curves.DEFAULT_CYCLE_S)
    wave = device.override("offset", moment)
    offset = int(wave) if wave is not None else (timing.offset_s if timing else 0)
    source = "corridor" if wave is not None else "timetable"
    if device.override("plan", moment) is not None and wave is None:
        source = "manual"
    values: Values = {
        "cycle_s": cycle,
        "offset_s": offset,
        "cycle_second": int(moment.timestamp() - offset) % cycle if cycle else 0,
        "plan_source": source,
    }
    if device.timetable is not None:
        values["timetable_version"] = device.timetable.version
    return values


def report_traffic_controller(
    device: Device, moment: datetime, env: Environment, interval_s: float | None
) -> Values:
    """Mode, plan, cycle and, over an interval, each detector's count and occupancy."""
    mode = device.override("mode", moment) or "normal"
    if device.faults and device.has_fault("conflictFlash"):
        mode = "yellow_flash"  # the safety monitor took over
    plan = device.override("plan", moment) or scheduled_plan(device, moment, env)
    values: Values = {"mode": mode, "plan": plan, "control_state": mode}
    values.update(_timing(device, plan, moment))
    if mode != "normal":
        values["cycle_s"] = 0
    timing = device.timetable.plans.get(plan) if device.timetable is not None else None
    running = _running_stage(timing, int(values["cycle_second"])) if values["cycle_s"] else None
    if running is not None:
        values["stage"] = running[0]
    values.update(
        signal_groups.aspects(
            signal_groups.intersection(device.asset.id),
            mode,
            running[1] if running else None,
            running[2] if running else 0,
        )
    )
    if interval_s is None:
        return values
    broken = device.faults.get("detectorFault")
    for n in range(1, int(device.attribute("detectors", 0)) + 1):
        faulty = broken is not None and broken.detail.get("detector") == n
        flow = 0.0 if faulty else _flow_vph(env, device, n, moment)
        values[f"detector_{n}_count"] = round(flow * interval_s / 3600)
        values[f"detector_{n}_occupancy_pct"] = round(_occupancy_pct(flow), 1)
    return values


def report_traffic_counter(
    device: Device, moment: datetime, env: Environment, interval_s: float | None
) -> Values:
    """Vehicles counted over the interval on all lanes, occupancy and mean speed."""
    if interval_s is None:
        return {}
    if device.has_fault("detectorFault"):
        return {"count": 0, "occupancy_pct": 0.0, "speed_kmh": 0.0}
    lanes = int(device.attribute("lanes", 1))
    flows = [_flow_vph(env, device, lane, moment) for lane in range(1, lanes + 1)]
    per_lane = sum(flows) / lanes
    free_speed = between(40, 70, env.seed, "speed", device.id)
    congestion = min(per_lane / LANE_CAPACITY_VPH, 1.0) ** 2
    speed = free_speed * (1 - 0.55 * congestion)
    speed += 3 * jitter(env.seed, "speed", device.id, _noise_slot(moment))
    values: Values = {
        "count": round(sum(flows) * interval_s / 3600),
        "occupancy_pct": round(_occupancy_pct(per_lane), 1),
        "speed_kmh": round(max(speed, 5.0), 1),
    }
    # Each lane too, as a counting station reports them (docs/mobility.md).
    for lane, flow in enumerate(flows, 1):
        lane_speed = free_speed * (1 - 0.55 * min(flow / LANE_CAPACITY_VPH, 1.0) ** 2)
        values[f"lane_{lane}_count"] = round(flow * interval_s / 3600)
        values[f"lane_{lane}_occupancy_pct"] = round(_occupancy_pct(flow), 1)
        values[f"lane_{lane}_speed_kmh"] = round(max(lane_speed, 5.0), 1)
    return values


def report_car_park(
    device: Device, moment: datetime, env: Environment, interval_s: float | None
) -> Values:
    """Free spaces: full in office and shopping hours, nearly empty at night."""
    del interval_s
    capacity = int(device.attribute("capacity", 300))
    popularity = between(0.75, 1.05, env.seed, "popularity", device.id)
    taken = curves.CAR_PARK_OCCUPANCY.at(env.sun.local(moment)) * popularity
    taken += 0.03 * jitter(env.seed, "parked", device.id, _noise_slot(moment))
    free = round(capacity * (1 - min(max(taken, 0.0), 1.0)))
    return {"free_spaces": free, "capacity": capacity}


# --- environment -------------------------------------------------------------------------

OZONE_LAG: Final = timedelta(hours=2)  # ozone builds up after the sun, peaking mid-afternoon


def report_air_quality(
    device: Device, moment: datetime, env: Environment, interval_s: float | None
) -> Values:
    """NO2 and particles follow traffic (and evening heating); ozone follows the sun."""
    del interval_s
    slot = _noise_slot(moment)
    site = between(0.7, 1.3, env.seed, "site", device.id)
    traffic = curves.TRAFFIC.at(env.sun.local(moment))
    no2 = site * (10 + 45 * traffic) + 4 * jitter(env.seed, "no2", device.id, slot)
    sunlight = max(0.0, math.sin(math.radians(env.sun.elevation(moment - OZONE_LAG))))
    o3 = 15 + 110 * sunlight - 0.25 * no2 + 5 * jitter(env.seed, "o3", device.id, slot)
    heating = 5.0 if env.sun.is_dark(moment) else 0.0
    pm10 = site * (12 + 10 * traffic + heating) + 3 * jitter(env.seed, "pm", device.id, slot)
    pm25 = pm10 * between(0.55, 0.7, env.seed, "fine", device.id)
    values = {"no2_ugm3": no2, "pm10_ugm3": pm10, "pm25_ugm3": pm25, "o3_ugm3": o3}
    broken = device.faults.get("sensorFault")
    if broken is not None:
        values.pop(str(broken.detail.get("sensor")), None)  # a faulty sensor says nothing
    return {key: round(max(value, 0.5), 1) for key, value in values.items()}


# --- video, roads, signs -----------------------------------------------------------------


def home_preset(device: Device) -> int:
    """The preset a camera rests on: 1 for a PTZ camera, 0 for a fixed one (no presets)."""
    return 1 if int(device.attribute("presets", 0)) > 0 else 0


def report_camera(
    device: Device, moment: datetime, env: Environment, interval_s: float | None
) -> Values:
    """Online, recording (not without video) and the current preset."""
    del env, interval_s
    recording = device.override("recording", moment)
    recording = True if recording is None else bool(recording)
    if device.has_fault("videoLoss", "recordingFailure"):
        recording = False
    preset = device.override("preset", moment)
    tour = device.override("tour", moment)
    return {
        "online": True,
        "recording": recording,
        "preset": home_preset(device) if preset is None else preset,
        "tour": 0 if tour is None else tour,
    }


def scheduled_position(device: Device, moment: datetime, env: Environment) -> str:
    """A permanent bollard stays up; a scheduled one lowers for the delivery window."""
    if device.attribute("access", "permanent") != "scheduled":
        return "up"
    return curves.BOLLARD_POSITION.at(env.sun.local(moment))


def report_bollard(
    device: Device, moment: datetime, env: Environment, interval_s: float | None
) -> Values:
    """Up, down, or moving."""
    del interval_s
    position = device.override("position", moment)
    return {"position": position or scheduled_position(device, moment, env)}


NIGHT_BRIGHTNESS_PCT: Final = 35.0  # signs dim at night so as not to dazzle


def report_message_sign(
    device: Device, moment: datetime, env: Environment, interval_s: float | None
) -> Values:
    """The message shown (blank unless told) and the brightness, dimmed at night."""
    del interval_s
    message = device.override("message", moment)
    dark = env.sun.is_dark(moment)
    return {
        "message": message or "",
        "brightness_pct": NIGHT_BRIGHTNESS_PCT if dark else 100.0,
    }


BEHAVIOURS: Final[dict[str, Behaviour]] = {
    "streetlight": Behaviour(
        lighting.report_light,
        firmware="LUM-4.2",
        advance=lighting.advance_light,
        initialise=lighting.initialise_light,
    ),
    "lighting_cabinet": Behaviour(
        lighting.report_cabinet,
        firmware="CAB-2.7",
        advance=lighting.advance_cabinet,
        initialise=lighting.initialise_cabinet,
    ),
    "traffic_controller": Behaviour(report_traffic_controller, firmware="TSC-5.1"),
    "traffic_counter": Behaviour(report_traffic_counter, firmware="CNT-3.0"),
    "car_park": Behaviour(report_car_park, firmware="PRK-1.9"),
    "air_quality_station": Behaviour(report_air_quality, firmware="AQ-2.3"),
    "camera": Behaviour(report_camera, firmware="CAM-10.12"),
    "bollard": Behaviour(report_bollard, firmware="BOL-1.4"),
    "message_sign": Behaviour(report_message_sign, firmware="VMS-6.0"),
    "vehicle": Behaviour(winter.report_vehicle, firmware="TRK-1.2"),
}
