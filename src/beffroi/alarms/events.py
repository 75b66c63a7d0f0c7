"""What the alarm area tells the event hub: one event per change of an alarm."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from beffroi.catalogue import Severity
from beffroi.core.event_kinds import kind
from beffroi.core.events import DomainEvent


@kind("alarm", relayed=True, console=True)
@dataclass(frozen=True, slots=True)
class AlarmChanged(DomainEvent):
    """An alarm was raised, repeated, acknowledged, cleared, shelved, grouped…"""

    alarm_id: int
    asset_id: str
    commune: str
    alarm_type: str
    severity: Severity
    state: str
    action: str
    at: datetime
    parent_id: int | None = None
