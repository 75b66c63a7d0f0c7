"""What the traffic area tells the event hub: timetables whose version moved (so the
delivery knows what to send), retries due, plans, manual selections and corridors
that changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from beffroi.core.event_kinds import kind
from beffroi.core.events import DomainEvent


@kind("traffic_timetables", relayed=True)
@dataclass(frozen=True, slots=True)
class TimetablesCompiled(DomainEvent):
    """Controllers whose timetable document has a new version, to deliver."""

    controller_ids: tuple[str, ...]
    at: datetime


@kind("traffic_timetables_due", relayed=True)
@dataclass(frozen=True, slots=True)
class TimetablesDue(DomainEvent):
    """Timetables are waiting to be (re)sent; the gateway reads which from the database."""

    count: int
    at: datetime


@kind("traffic_plan", relayed=True)
@dataclass(frozen=True, slots=True)
class PlanChanged(DomainEvent):
    """A controller's plan was created, changed or deleted (``version`` 0 once deleted)."""

    controller_id: str
    number: int
    version: int
    action: str
    at: datetime


@kind("traffic_manual_plan", relayed=True)
@dataclass(frozen=True, slots=True)
class ManualPlanChanged(DomainEvent):
    """A plan was imposed by hand on a controller, or its selection ended."""

    selection_id: int
    controller_id: str
    plan: int
    action: str
    at: datetime


@kind("traffic_corridor", relayed=True)
@dataclass(frozen=True, slots=True)
class CorridorChanged(DomainEvent):
    """A corridor was created, changed, applied or deleted."""

    corridor_id: int
    action: str
    at: datetime
