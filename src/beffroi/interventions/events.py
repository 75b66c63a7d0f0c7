"""What the interventions area tells the event hub: one event per change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class InterventionChanged:
    """An intervention was created, assigned, moved, noted, photographed or linked."""

    intervention_id: int
    commune: str
    team_id: int | None
    status: str
    action: str
    at: datetime


@dataclass(frozen=True, slots=True)
class TeamChanged:
    """A team was created, changed or deleted, or its members changed."""

    team_id: int
    action: str
    at: datetime
