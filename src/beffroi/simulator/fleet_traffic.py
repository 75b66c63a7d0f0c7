"""Plausible configurations, timing plans and timetables for the generated fleet's traffic
controllers: a crossroads of two roads with a pedestrian crossing on each, two stages,
intergreens from the usual clearance times, one plan per attribute ``plans`` (night,
peaks, off-peak) and the day pattern of :data:`beffroi.simulator.curves.TRAFFIC_PLANS`.

Deterministic: the same controller id gives the same intersection. Every plan generated
passes the plan validator (the unit tests check the whole fleet)."""

from __future__ import annotations

import random
import zlib
from datetime import time

from beffroi.assets import reading
from beffroi.assets.filters import AssetFilter
from beffroi.assets.lifecycle import AssetStatus
from beffroi.core.context import Context
from beffroi.simulator import curves
from beffroi.traffic.config import GroupKind
from beffroi.traffic.schemas import (
    ConfigIn,
    DetectorIn,
    IntergreenIn,
    PlanIn,
    SignalGroupIn,
    StageIn,
    StageSplitIn,
    SwitchPointIn,
    TimetableIn,
)
from beffroi.traffic.seeding import Setup, seed

WEEKDAYS = [1, 2, 3, 4, 5]
WEEKEND = [6, 7]


def _rng(controller_id: str) -> random.Random:
    return random.Random(zlib.crc32(controller_id.encode()))  # noqa: S311 - synthetic data


def _config(rng: random.Random, detectors: int) -> ConfigIn:
    vehicle_min = rng.choice((6, 7, 8))
    walk_min = rng.choice((5, 6))
    clearance = rng.choice((6, 7, 8))  # pedestrians' clearance: crossing width / 1.2 m/s
    amber = rng.choice((3, 4))
    groups = [
        SignalGroupIn(name="K1", kind=GroupKind.VEHICLE, min_green_s=vehicle_min + 2),
        SignalGroupIn(name="K2", kind=GroupKind.VEHICLE, min_green_s=vehicle_min),
        SignalGroupIn(name="P1", kind=GroupKind.PEDESTRIAN, min_green_s=walk_min),
        SignalGroupIn(name="P2", kind=GroupKind.PEDESTRIAN, min_green_s=walk_min),
    ]

    def both(a: str, b: str, ab: int, ba: int) -> list[IntergreenIn]:
        return [
            IntergreenIn.model_validate({"from": a, "to": b, "seconds": ab}),
            IntergreenIn.model_validate({"from": b, "to": a, "seconds": ba}),
        ]

    return ConfigIn(
        groups=groups,
        detectors=[
            DetectorIn(name=f"D{n}", group="K1" if n % 2 else "K2") for n in range(1, detectors + 1)
        ],
        stages=[StageIn(name="S1", groups=["K1", "P2"]), StageIn(name="S2", groups=["K2", "P1"])],
        intergreens=[
            *both("K1", "K2", amber + 2, amber + 2),
            *both("K1", "P1", amber + 1, clearance),
            *both("K2", "P2", amber + 1, clearance),
        ],
    )


def _plans(rng: random.Random, count: int) -> list[PlanIn]:
    main_share = rng.uniform(0.52, 0.62)
    out = []
    for number in range(1, count + 1):
        cycle = int(curves.CYCLE_S_BY_PLAN.get(number, 60 + 10 * (number % 5)))
        first = round(cycle * main_share)
        out.append(
            PlanIn(
                number=number,
                name={1: "night", 2: "morning peak", 3: "off-peak", 4: "evening peak"}.get(
                    number, f"plan {number}"
                ),
                cycle_s=cycle,
                offset_s=rng.randrange(cycle),
                stages=[
                    StageSplitIn(stage="S1", split_s=first),
                    StageSplitIn(stage="S2", split_s=cycle - first),
                ],
            )
        )
    return out


def _timetable(count: int) -> TimetableIn:
    def points(days: list[int], pattern: tuple[tuple[time, int], ...]) -> list[SwitchPointIn]:
        return [SwitchPointIn(days=days, start=at, plan=min(plan, count)) for at, plan in pattern]

    return TimetableIn(
        entries=points(WEEKDAYS, curves.TRAFFIC_PLANS.weekday)
        + points(WEEKEND, curves.TRAFFIC_PLANS.weekend)
    )


def controller_setup(controller_id: str, plans: int, detectors: int) -> Setup:
    """The configuration, plans and timetable of a generated controller."""
    rng = _rng(controller_id)
    count = max(1, min(plans, 32))
    return Setup(_config(rng, detectors), _plans(rng, count), _timetable(count))


async def setup_fleet(ctx: Context) -> list[str]:
    """Give every live traffic controller of the registry without a configuration its
    generated setup (all or none); returns those set up."""
    setups = {}
    async for asset in reading.iter_assets(ctx, AssetFilter(types=["traffic_controller"])):
        if asset.status == AssetStatus.DECOMMISSIONED:
            continue
        attributes = asset.attributes
        setups[asset.id] = controller_setup(
            asset.id, int(attributes.get("plans", 4)), int(attributes.get("detectors", 0))
        )
    return await seed(ctx, setups) if setups else []
