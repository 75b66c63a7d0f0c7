"""What the notifications area tells the event hub."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from beffroi.core.event_kinds import kind
from beffroi.core.events import DomainEvent


@kind("delivery")
@dataclass(frozen=True, slots=True)
class DeliveryChanged(DomainEvent):
    """A notification was sent, failed for good, or is waiting for another attempt."""

    delivery_id: int
    route_id: int | None
    alarm_id: int | None
    state: str
    attempts: int
    at: datetime
