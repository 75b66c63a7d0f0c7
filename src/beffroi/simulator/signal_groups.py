"""What a simulated controller's signal groups show: each group's aspect (``group_{n}_state``)
from the stage running and the second within it.

The groups of the running stage are green, the others red; a vehicle group turns amber for
the last seconds of its stage, a pedestrian group red for its clearance (the time to cross
the road, simplified). A controller in yellow flash shows amber flashing everywhere, a dark
one nothing, an all-red one red; under local control (a person at the cabinet, a police
key) the hub is not told. The generated intersection's stages are those of
:mod:`beffroi.simulator.fleet_traffic`, the same for every controller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from beffroi.simulator.fleet_traffic import controller_setup
from beffroi.traffic.config import GroupKind

AMBER_S = 3
CLEARANCE_S = 5
# Every group shows the same aspect whatever the stage.
WHOLE_CONTROLLER = {"yellow_flash": "amber_flashing", "dark": "dark", "all_red": "red"}


@dataclass(frozen=True, slots=True)
class Intersection:
    """The signal groups in order (``group_1`` is the first) and each stage's groups."""

    kinds: tuple[GroupKind, ...]
    stages: Mapping[str, frozenset[int]]


@cache
def intersection(controller_id: str) -> Intersection:
    """The generated intersection of a controller (the configuration the demo seeds)."""
    config = controller_setup(controller_id, 1, 0).config
    index = {group.name: n for n, group in enumerate(config.groups, start=1)}
    return Intersection(
        tuple(group.kind for group in config.groups),
        {stage.name: frozenset(index[g] for g in stage.groups) for stage in config.stages},
    )


def aspects(where: Intersection, mode: str, stage: str | None, left_s: int) -> dict[str, str]:
    """Each group's aspect, as telemetry: ``stage`` is the stage running and ``left_s`` the
    seconds before it ends; no stage known (no timing plan) and no whole-controller state
    says nothing."""
    count = len(where.kinds)
    if mode in WHOLE_CONTROLLER:
        return {f"group_{n}_state": WHOLE_CONTROLLER[mode] for n in range(1, count + 1)}
    if mode != "normal" or stage is None or stage not in where.stages:
        return {}
    green = where.stages[stage]
    shown = {}
    for n, kind in enumerate(where.kinds, start=1):
        aspect = "red"
        if n in green:
            aspect = "green"
            if kind is GroupKind.PEDESTRIAN and left_s <= CLEARANCE_S:
                aspect = "red"
            elif kind is not GroupKind.PEDESTRIAN and left_s <= AMBER_S:
                aspect = "amber"
        shown[f"group_{n}_state"] = aspect
    return shown
