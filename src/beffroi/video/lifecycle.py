"""The vocabulary of the video area: what the register records, the states of a legal
hold, why a view session ended."""

from __future__ import annotations

from enum import StrEnum


class EntryKind(StrEnum):
    """What a register entry records (one entry per camera concerned)."""

    VIEW_START = "view.start"
    VIEW_END = "view.end"
    STEERING = "steering"
    EXTRACTION = "extraction"
    TRANSMISSION = "transmission"
    DELETION = "deletion"
    HOLD_PLACED = "hold.placed"
    HOLD_LIFTED = "hold.lifted"
    MASK = "mask"


class EntryOutcome(StrEnum):
    """Whether the act took place, or was refused (refusals are registered too)."""

    DONE = "done"
    REFUSED = "refused"


class HoldState(StrEnum):
    """Where a legal hold stands; only ``placed`` and ``lift_requested`` hold footage."""

    REQUESTED = "requested"
    REFUSED = "refused"
    PLACED = "placed"
    LIFT_REQUESTED = "lift_requested"
    LIFTED = "lifted"


HOLDING = frozenset({HoldState.PLACED, HoldState.LIFT_REQUESTED})


class SessionEnd(StrEnum):
    """Why a view session ended."""

    AGENT = "agent"
    EXPIRED = "expired"
