"""What the crisis plans tell the event hub: a run or one of its steps moved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from beffroi.core.event_kinds import kind
from beffroi.core.events import DomainEvent


@kind(
    "plan_run",
    relayed=True,
    console={"run_id": "run_id", "state": "state", "position": "position", "step": "step"},
)
@dataclass(frozen=True, slots=True)
class RunChanged(DomainEvent):
    """A run changed state, or its step at ``position`` (-1: none) moved to ``step``;
    ``communes``: the run's (empty: metropolis-wide), which decide who is told."""

    run_id: int
    state: str
    position: int
    step: str
    at: datetime
    communes: tuple[str, ...]
