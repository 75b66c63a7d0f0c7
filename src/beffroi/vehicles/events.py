"""What the vehicles area tells the event hub: a vehicle reported where it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from beffroi.core.event_kinds import kind
from beffroi.core.events import DomainEvent


@kind("vehicle_moved", relayed=True, console=True)
@dataclass(frozen=True, slots=True)
class VehicleMoved(DomainEvent):
    """A vehicle's newest position of an ingest batch (one per vehicle and batch).

    Relayed: a console served apart from the gateway draws the fleet live too. The stream
    sends it to whoever sees the vehicle's commune (``console/stream.py``)."""

    asset_id: str
    ts: datetime
    lon: float
    lat: float
    speed_kmh: float | None
    heading_deg: float | None
