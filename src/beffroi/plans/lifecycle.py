"""Words of the crisis plans: kinds of plan and step, where a run and a step stand, and
the winter service's alert levels."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class PlanKind(StrEnum):
    """What a plan answers."""

    SNOW = "snow"
    FLOOD = "flood"
    EVENT = "event"
    HEATWAVE = "heatwave"
    OTHER = "other"


class PlanStepKind(StrEnum):
    """What a step does: a group command, a list of things people tick, a notification."""

    COMMAND = "command"
    CHECKLIST = "checklist"
    NOTIFY = "notify"


class AlertLevel(IntEnum):
    """Alert levels a run is started at (the winter service's meaning; other plans use the
    same scale). A step with a minimum level above the run's is skipped."""

    # Snow or black ice forecast: watch, people on call.
    WATCH = 1
    # Snow falling or roads freezing: salting routes out.
    SALTING = 2
    # Heavy snow: everything out, signs and closures.
    HEAVY_SNOW = 3


class RunState(StrEnum):
    """Where a run stands. Started, it waits for a second person's approval; approved it
    runs its steps in order; ``finished`` once every step ended, ``closed`` by a person."""

    AWAITING_APPROVAL = "awaiting_approval"
    RUNNING = "running"
    FINISHED = "finished"
    REFUSED = "refused"
    CLOSED = "closed"


class StepState(StrEnum):
    """Where a step of a run stands."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


ENDED = frozenset({StepState.DONE, StepState.FAILED, StepState.SKIPPED})
OPEN_RUNS = frozenset({RunState.AWAITING_APPROVAL, RunState.RUNNING, RunState.FINISHED})

MAX_STEPS = 50
MAX_ITEMS = 50
MAX_RECIPIENTS = 100
