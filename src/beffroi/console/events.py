"""What the console area tells the event hub."""

from __future__ import annotations

from dataclasses import dataclass

from beffroi.catalogue import Severity
from beffroi.console.states import MapState
from beffroi.core.event_kinds import kind
from beffroi.core.events import DomainEvent


@kind("asset", console={"id": "asset_id", "state": "state", "severity": "severity"})
@dataclass(frozen=True, slots=True)
class AssetStateChanged(DomainEvent):
    """What the map shows of an asset changed (ok, alarm, offline, commanded…)."""

    asset_id: str
    commune: str
    state: MapState
    severity: Severity | None
