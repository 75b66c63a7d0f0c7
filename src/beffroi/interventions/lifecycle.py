"""What an intervention is and how it moves: categories, priorities, statuses, transitions.

The one table :data:`TRANSITIONS` says which status may follow which, and who may make
the move: a manager (dispatch: assign, cancel, close, reopen) or the field (start, hold,
resolve). Everything else is refused with the current status.
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """The kind of field work."""

    LIGHTING = "lighting"
    TRAFFIC = "traffic"
    VIDEO = "video"
    ROADS = "roads"
    SNOW = "snow"
    CLEANLINESS = "cleanliness"


class Priority(StrEnum):
    """How urgent the work is; each priority has its service level (:mod:`.sla`)."""

    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


PRIORITY_RANK = {Priority.CRITICAL: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class Source(StrEnum):
    """What opened the intervention."""

    MANUAL = "manual"
    ALARM = "alarm"
    REPORT = "report"


class Status(StrEnum):
    """Where an intervention stands."""

    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Actor(StrEnum):
    """Who may make a move: dispatch (INTERVENTION_MANAGE) or the field (INTERVENTION_WORK,
    within one's teams unless one also manages)."""

    MANAGER = "manager"
    FIELD = "field"


S = Status
M, F = Actor.MANAGER, Actor.FIELD

# (from, to) -> who may make that move. Assigning again (assigned -> assigned) hands the
# work to another team or person; reassigning work already started sends it back to
# ``assigned`` for the new team to start. ``resolved -> in_progress`` reopens a repair that
# did not hold. Cancelling is possible from every status that is not final.
TRANSITIONS: dict[tuple[Status, Status], Actor] = {
    (S.NEW, S.ASSIGNED): M,
    (S.ASSIGNED, S.ASSIGNED): M,
    (S.IN_PROGRESS, S.ASSIGNED): M,
    (S.ON_HOLD, S.ASSIGNED): M,
    (S.ASSIGNED, S.IN_PROGRESS): F,
    (S.IN_PROGRESS, S.ON_HOLD): F,
    (S.ON_HOLD, S.IN_PROGRESS): F,
    (S.IN_PROGRESS, S.RESOLVED): F,
    (S.RESOLVED, S.CLOSED): M,
    (S.RESOLVED, S.IN_PROGRESS): M,
    (S.NEW, S.CANCELLED): M,
    (S.ASSIGNED, S.CANCELLED): M,
    (S.IN_PROGRESS, S.CANCELLED): M,
    (S.ON_HOLD, S.CANCELLED): M,
    (S.RESOLVED, S.CANCELLED): M,
}

FINAL = frozenset({S.CLOSED, S.CANCELLED})
# Work still to do: what a queue shows and what can be overdue.
OPEN = frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.ON_HOLD})


def allowed(current: Status, target: Status) -> Actor | None:
    """Who may move an intervention from ``current`` to ``target`` (``None``: nobody)."""
    return TRANSITIONS.get((current, target))


def next_statuses(current: Status) -> list[Status]:
    """The statuses reachable from ``current``, in declaration order."""
    return [to for (frm, to) in TRANSITIONS if frm is current]
