"""The states of an alarm and what moves it (ISA-18.2 / IEC 62682 style).

An alarm is *active* while its condition holds and *cleared* once it no longer does;
independently, a person *acknowledges* it. The four states are the product of the two.
"""

from __future__ import annotations

from enum import StrEnum

from beffroi.catalogue import Severity


class AlarmState(StrEnum):
    """Where an alarm stands: condition (active/cleared) × acknowledgement."""

    ACTIVE_UNACKNOWLEDGED = "active_unacknowledged"
    ACTIVE_ACKNOWLEDGED = "active_acknowledged"
    CLEARED_UNACKNOWLEDGED = "cleared_unacknowledged"
    CLEARED_ACKNOWLEDGED = "cleared_acknowledged"

    @property
    def active(self) -> bool:
        """Whether the alarm's condition still holds."""
        return self in ACTIVE

    @property
    def acknowledged(self) -> bool:
        """Whether a person has acknowledged it."""
        return self in (AlarmState.ACTIVE_ACKNOWLEDGED, AlarmState.CLEARED_ACKNOWLEDGED)

    def acknowledge(self) -> AlarmState:
        """The state after an acknowledgement."""
        return AlarmState.ACTIVE_ACKNOWLEDGED if self.active else AlarmState.CLEARED_ACKNOWLEDGED

    def clear(self) -> AlarmState:
        """The state after the condition goes away."""
        return (
            AlarmState.CLEARED_ACKNOWLEDGED
            if self.acknowledged
            else AlarmState.CLEARED_UNACKNOWLEDGED
        )


ACTIVE = frozenset({AlarmState.ACTIVE_UNACKNOWLEDGED, AlarmState.ACTIVE_ACKNOWLEDGED})
# Still on the operators' list: active, or cleared but nobody has seen it yet.
OPEN = frozenset(
    {
        AlarmState.ACTIVE_UNACKNOWLEDGED,
        AlarmState.ACTIVE_ACKNOWLEDGED,
        AlarmState.CLEARED_UNACKNOWLEDGED,
    }
)


class AlarmSource(StrEnum):
    """What raised an alarm."""

    DEVICE = "device"
    RULE = "rule"
    COMMAND = "command"
    CONNECTIVITY = "connectivity"


class Action(StrEnum):
    """What an alarm's history records."""

    RAISED = "raised"
    CLEARED = "cleared"
    ACKNOWLEDGED = "acknowledged"
    COMMENTED = "commented"
    ASSIGNED = "assigned"
    SHELVED = "shelved"
    UNSHELVED = "unshelved"
    GROUPED = "grouped"
    UNGROUPED = "ungrouped"
    ESCALATED = "escalated"
    SEVERITY_CHANGED = "severity_changed"
    # Only an event on the hub: the occurrence count records repeats, not the history.
    REPEATED = "repeated"


SEVERITY_RANK = {
    Severity.CRITICAL: 0,
    Severity.MAJOR: 1,
    Severity.MINOR: 2,
    Severity.WARNING: 3,
}

# Alarm types raised by the hub itself rather than read from a device's fault codes.
COMMUNICATION_LOSS = "communicationLoss"
COMMAND_FAILED = "commandFailed"
