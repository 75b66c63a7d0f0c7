"""What the lighting area tells the event hub: programs, calendars and assignments that
changed (so a scheduler in another process knows to recompile), and schedules whose
version moved (so the delivery knows what to send)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from beffroi.core.event_kinds import kind
from beffroi.core.events import DomainEvent


@kind("lighting_program", relayed=True)
@dataclass(frozen=True, slots=True)
class ProgramChanged(DomainEvent):
    """A program was created, changed or deleted (``version`` 0 once deleted)."""

    program_id: int
    version: int
    action: str
    at: datetime


@kind("lighting_calendar", relayed=True)
@dataclass(frozen=True, slots=True)
class CalendarChanged(DomainEvent):
    """A calendar was created, changed or deleted (``version`` 0 once deleted)."""

    calendar_id: int
    version: int
    action: str
    at: datetime


@kind("lighting_assignment", relayed=True)
@dataclass(frozen=True, slots=True)
class AssignmentChanged(DomainEvent):
    """A calendar was assigned to a target, reassigned, or the assignment removed."""

    assignment_id: int
    target: str
    action: str
    at: datetime


@kind("lighting_schedules", relayed=True)
@dataclass(frozen=True, slots=True)
class SchedulesCompiled(DomainEvent):
    """Cabinets whose compiled schedule has a new version, to deliver."""

    cabinet_ids: tuple[str, ...]
    at: datetime


@kind("lighting_override", relayed=True)
@dataclass(frozen=True, slots=True)
class OverrideChanged(DomainEvent):
    """An override was asked for, approved, refused, cancelled, or came to its end
    (``state``: its state as shown, :class:`~beffroi.lighting.override.OverrideState`)."""

    override_id: int
    state: str
    action: str
    at: datetime


@kind("lighting_deliveries_due", relayed=True)
@dataclass(frozen=True, slots=True)
class DeliveriesDue(DomainEvent):
    """Schedules are waiting to be (re)sent: the gateway that delivers them reads which
    from the database. Small on purpose: a whole city's cabinet ids would not fit in
    one relayed event."""

    count: int
    at: datetime
