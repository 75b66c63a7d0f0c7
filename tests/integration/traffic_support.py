"""Shared setup of the traffic tests: controllers in two communes, a sound configuration,
plans."""

from __future__ import annotations

from typing import Any

from beffroi.assets.importing import import_assets
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.core.context import Context

API = "/api/v1/traffic"
# Three controllers along a Talant avenue (about 300 m and 450 m apart), one in Chenôve.
POSITIONS = {
    "TC-TAL-1": (5.0000, 47.3300),
    "TC-TAL-2": (5.0040, 47.3300),
    "TC-TAL-3": (5.0100, 47.3300),
    "TC-CHE-1": (5.006, 47.292),
}

CONFIG: dict[str, Any] = {
    "groups": [
        {"name": "K1", "kind": "vehicle", "min_green_s": 10},
        {"name": "K2", "kind": "vehicle", "min_green_s": 8},
        {"name": "P1", "kind": "pedestrian", "min_green_s": 5},
        {"name": "P2", "kind": "pedestrian", "min_green_s": 5},
    ],
    "detectors": [{"name": "D1", "group": "K1"}],
    "stages": [{"name": "S1", "groups": ["K1", "P2"]}, {"name": "S2", "groups": ["K2", "P1"]}],
    "intergreens": [
        {"from": "K1", "to": "K2", "seconds": 5},
        {"from": "K2", "to": "K1", "seconds": 5},
        {"from": "K1", "to": "P1", "seconds": 4},
        {"from": "P1", "to": "K1", "seconds": 7},
        {"from": "K2", "to": "P2", "seconds": 4},
        {"from": "P2", "to": "K2", "seconds": 7},
    ],
}


def plan(number: int, s1: int, s2: int, offset: int = 0, **extra: Any) -> dict[str, Any]:
    """A two-stage plan body."""
    return {
        "number": number,
        "cycle_s": s1 + s2,
        "offset_s": offset,
        "stages": [{"stage": "S1", "split_s": s1}, {"stage": "S2", "split_s": s2}],
        **extra,
    }


async def controllers(system: Context, *ids: str) -> None:
    """Register the controllers named (all of :data:`POSITIONS` by default)."""
    items = [
        AssetCreate(
            id=cid,
            type="traffic_controller",
            name=f"Carrefour {cid}",
            commune="chenove" if "CHE" in cid else "talant",
            location=Point(coordinates=POSITIONS[cid]),
            attributes={"plans": 4, "detectors": 2},
        )
        for cid in ids or POSITIONS
    ]
    await import_assets(system, list(enumerate(items, 1)))
