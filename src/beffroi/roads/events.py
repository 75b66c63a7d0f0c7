"""What the roads area tells the event hub: situations that changed (the map redraws
its layer), and signs sent a situation's text or cleared."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from beffroi.core.event_kinds import kind
from beffroi.core.events import DomainEvent


@kind("road_situation", relayed=True, console={"id": "situation_id", "status": "status"})
@dataclass(frozen=True, slots=True)
class SituationChanged(DomainEvent):
    """A situation was created, changed, activated, ended or cancelled; ``communes``: those
    it crosses (who is told: the console's stream sends it to whoever sees one)."""

    situation_id: int
    status: str
    action: str
    at: datetime
    communes: tuple[str, ...]


@kind("road_signs", relayed=True)
@dataclass(frozen=True, slots=True)
class SignsPosted(DomainEvent):
    """Signs were sent a situation's text (``action`` display) or cleared."""

    situation_id: int
    asset_ids: tuple[str, ...]
    action: str
    at: datetime
