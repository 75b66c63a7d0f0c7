"""What the notifications area tells the event hub."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class DeliveryChanged:
    """A notification was sent, failed for good, or is waiting for another attempt."""

    delivery_id: int
    route_id: int | None
    alarm_id: int | None
    state: str
    attempts: int
    at: datetime
