"""What a road situation is, without storage: its kinds, its lifecycle, its impact.

The status is stored (the ``roads.lifecycle`` job moves it by the clock) so that lists,
the map and the DATEX II export filter on one column; :func:`due_status` says where the
clock puts a situation, and :data:`TRANSITIONS` which moves people may make.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class SituationType(StrEnum):
    """The four kinds of road situation the control room records."""

    ROADWORKS = "roadworks"
    CLOSURE = "closure"
    EVENT = "event"
    INCIDENT = "incident"


class IncidentKind(StrEnum):
    """What an incident is, when it is one (DATEX II names a record type for each)."""

    ACCIDENT = "accident"
    BROKEN_DOWN_VEHICLE = "broken_down_vehicle"
    OBSTRUCTION = "obstruction"
    FLOODING = "flooding"
    OTHER = "other"


class Status(StrEnum):
    """Where a situation stands: planned until its start, active until its end, then
    ended; cancelled when called off (before or during)."""

    PLANNED = "planned"
    ACTIVE = "active"
    ENDED = "ended"
    CANCELLED = "cancelled"


OPEN = frozenset({Status.PLANNED, Status.ACTIVE})
FINAL = frozenset({Status.ENDED, Status.CANCELLED})
# Longest a situation may last (works over a summer, a bridge closed for a year), and how
# far ahead it may be planned: beyond, a typo in a year is the likelier explanation.
MAX_DURATION = timedelta(days=730)
MAX_LEAD = timedelta(days=730)


def due_status(starts_at: datetime, ends_at: datetime | None, now: datetime) -> Status:
    """The status the clock gives an open situation at ``now``."""
    if ends_at is not None and ends_at <= now:
        return Status.ENDED
    if starts_at <= now:
        return Status.ACTIVE
    return Status.PLANNED
