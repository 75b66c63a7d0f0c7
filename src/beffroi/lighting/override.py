"""Overrides, pure: their states on the clock, when they apply, which one wins, and which
ones are critical. No I/O here (:mod:`beffroi.lighting.overrides` holds the use cases).

An override's stored ``state`` is what people decided; whether it is scheduled, active or
ended follows from the clock, so an override ends by itself at ``ends_at`` with nobody
(and no job) touching it: every reading says ``ended`` from then on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from beffroi.catalogue import CATALOGUE, Domain

MAX_DURATION = timedelta(days=7)
# Planned ahead at most this far: a festival next year is entered next year.
MAX_LEAD = timedelta(days=366)
# A start a little in the past is "now" said slowly (a form filled in, a clock behind).
START_SLACK = timedelta(minutes=5)


class Decision(StrEnum):
    """What people decided of an override (the stored state)."""

    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REFUSED = "refused"
    CANCELLED = "cancelled"


class OverrideState(StrEnum):
    """An override's state as shown: the decision, and for an approved one the clock."""

    PENDING_APPROVAL = "pending_approval"
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    ENDED = "ended"
    CANCELLED = "cancelled"
    REFUSED = "refused"


class OverrideTarget(StrEnum):
    """What an override applies to."""

    ASSETS = "assets"
    GROUP = "group"
    POLYGON = "polygon"
    COMMUNE = "commune"
    METROPOLIS = "metropolis"


# A whole commune or more: switching these off is critical (as a commune-wide command is).
WIDE = frozenset({OverrideTarget.COMMUNE, OverrideTarget.METROPOLIS})


def state_at(decision: str, starts_at: datetime, ends_at: datetime, moment: datetime) -> str:
    """The state of an override at ``moment``. One still awaiting approval at its end can
    no longer be approved: it shows ``ended`` (it never applied)."""
    if decision in (Decision.REFUSED, Decision.CANCELLED):
        return decision
    if moment >= ends_at:
        return OverrideState.ENDED
    if decision == Decision.PENDING_APPROVAL:
        return OverrideState.PENDING_APPROVAL
    return OverrideState.SCHEDULED if moment < starts_at else OverrideState.ACTIVE


def effective_end(ends_at: datetime, cancelled_at: datetime | None) -> datetime:
    """When an override stops applying: its end, or its cancellation if earlier."""
    return ends_at if cancelled_at is None else min(ends_at, cancelled_at)


def lights_out(level_pct: float) -> bool:
    """Whether this level switches lights off, by the catalogue's word: the lighting
    commands' ``off_when`` (dim to 0 %), not a number of our own."""
    return any(
        command.switches_off({"level_pct": level_pct})
        for spec in CATALOGUE.of_domain(Domain.LIGHTING, cabinet=False)
        for command in spec.commands
        if "level_pct" in command.params.get("properties", {})
    )


def critical_because(target: OverrideTarget, level_pct: float) -> str | None:
    """Why an override needs a second person's approval, if it does: lights out over a
    whole commune or more (the rule commands follow for commune-wide batches)."""
    if target in WIDE and lights_out(level_pct):
        return f"switching off the lighting of a whole {target.value}"
    return None


@dataclass(frozen=True, slots=True)
class Applying:
    """An override as resolution needs it: when it applies, and what it says."""

    id: int
    level_pct: float
    starts_at: datetime
    until: datetime  # its end, or its cancellation if earlier
    ends_at: datetime
    reason: str
    author: str

    def applies_at(self, moment: datetime) -> bool:
        """Whether it is in force at ``moment``."""
        return self.starts_at <= moment < self.until


def winner(candidates: Iterable[Applying], moment: datetime) -> Applying | None:
    """The override in force at ``moment`` among ``candidates`` (those covering one
    light): the most recent (highest id, the order they were asked in) wins."""
    found = [c for c in candidates if c.applies_at(moment)]
    return max(found, key=lambda c: c.id) if found else None
