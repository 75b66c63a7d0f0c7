"""The life of a piece of equipment, from planned to decommissioned."""

from __future__ import annotations

from enum import StrEnum


class AssetStatus(StrEnum):
    """Lifecycle of a piece of equipment."""

    PLANNED = "planned"
    IN_SERVICE = "in_service"
    MAINTENANCE = "maintenance"
    OUT_OF_SERVICE = "out_of_service"
    DECOMMISSIONED = "decommissioned"
