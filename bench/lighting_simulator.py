"""What running delivered schedules costs the simulator: every lighting cabinet and
streetlight of the Dijon fleet ticked through one evening (every device reporting every
15 simulated minutes for 8 hours, no I/O), first on the built-in night profile, then with
a schedule delivered to every cabinet. Same fleet, same moments: the raw baseline is the
first run.

    python -m bench.lighting_simulator [--scale 1.0] [--hours 8]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson

from beffroi.lighting.calendar import parse_calendar
from beffroi.lighting.program import parse_program
from beffroi.lighting.schedule import content
from beffroi.simulator import SimAsset, city_centre
from beffroi.simulator.engine import CABINET, Engine
from beffroi.simulator.fleet import generate_fleet
from beffroi.simulator.fleet_communes import load_communes

START = datetime(2026, 12, 14, 17, 0, tzinfo=ZoneInfo("Europe/Paris")).astimezone(UTC)
REPORT = timedelta(minutes=15)
PROGRAM = parse_program(
    {
        "steps": [
            {"anchor": "sunset", "offset_min": -10, "level_pct": 100, "ramp_s": 60},
            {"anchor": "time", "at": "23:00", "level_pct": 50, "ramp_s": 300},
            {"anchor": "time", "at": "05:00", "level_pct": 100},
            {"anchor": "sunrise", "offset_min": 10, "level_pct": 0},
        ]
    }
)
CALENDAR = parse_calendar(
    {"rules": [{"kind": "holidays", "program_id": 1, "holidays": ["any"]}], "default_program_id": 1}
)


def run(fleet: list[SimAsset], hours: float, *, schedules: bool) -> tuple[float, int]:
    """Seconds to tick every device through ``hours``, and the ticks."""
    latitude, longitude = city_centre(load_communes())
    engine = Engine(fleet, start=START, latitude=latitude, longitude=longitude, fault_rate=0.0)
    if schedules:
        for cabinet in (d for d in engine.devices.values() if d.spec.key == CABINET):
            body = content(
                cabinet_id=cabinet.id,
                lat=cabinet.asset.lat,
                lon=cabinet.asset.lon,
                timezone="Europe/Paris",
                calendar_id=1,
                calendar=CALENDAR,
                programs={1: PROGRAM},
                year=START.year,
            )
            engine.take_schedule(cabinet.id, orjson.dumps({"version": 1, **body}), START)
    devices = list(engine.devices.values())
    ticks = 0
    moment = START
    began = time.perf_counter()
    while moment < START + timedelta(hours=hours):
        moment += REPORT
        for device in devices:
            engine.tick(device, moment)
            ticks += 1
    return time.perf_counter() - began, ticks


def main() -> int:
    """Run both and print them side by side."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="of the Dijon fleet")
    parser.add_argument("--hours", type=float, default=8.0, help="simulated")
    args = parser.parse_args()
    fleet = [
        SimAsset.from_asset(a)
        for a in generate_fleet("dijon", scale=args.scale, seed=1)
        if a.type in (CABINET, "streetlight")
    ]
    print(f"{len(fleet):,} cabinets and streetlights, {args.hours:g} simulated hours")
    profile_s, ticks = run(fleet, args.hours, schedules=False)
    print(f"  built-in night profile (baseline): {profile_s:6.1f} s, "
          f"{profile_s / ticks * 1e6:.0f} µs a report")  # fmt: skip
    schedule_s, _ = run(fleet, args.hours, schedules=True)
    print(f"  delivered schedules:               {schedule_s:6.1f} s, "
          f"{schedule_s / ticks * 1e6:.0f} µs a report "
          f"({schedule_s / profile_s:.2f}x the baseline)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
