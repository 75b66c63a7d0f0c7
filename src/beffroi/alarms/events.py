"""What the alarm area tells the event hub: one event per change of an alarm."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AlarmChanged:
    """An alarm was raised, repeated, acknowledged, cleared, shelved, grouped…"""

    alarm_id: int
    asset_id: str
    commune: str
    alarm_type: str
    severity: str
    state: str
    action: str
    at: datetime
    parent_id: int | None = None
