"""What the console area tells the event hub."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AssetStateChanged:
    """What the map shows of an asset changed (ok, alarm, offline, commanded…)."""

    asset_id: str
    commune: str
    state: str
    severity: str | None
