"""What the interventions area tells the event hub: one event per change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from beffroi.core.event_kinds import kind
from beffroi.core.events import DomainEvent


@kind("intervention", relayed=True, console=True)
@dataclass(frozen=True, slots=True)
class InterventionChanged(DomainEvent):
    """An intervention was created, assigned, moved, noted, photographed or linked."""

    intervention_id: int
    commune: str
    team_id: int | None
    status: str
    action: str
    at: datetime
    # The main asset, if any: the live stream hides a camera's work order with the camera.
    asset_id: str | None = None


@kind("team")
@dataclass(frozen=True, slots=True)
class TeamChanged(DomainEvent):
    """A team was created, changed or deleted, or its members changed."""

    team_id: int
    action: str
    at: datetime
