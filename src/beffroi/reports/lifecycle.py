"""The vocabulary of reports: how they came, and what the public reads of their work.

An intervention's status maps to Open311's two (``open``, ``closed``) and to a public
sentence; that table is all the public learns of the work: never a team, a person or an
internal note.
"""

from __future__ import annotations

from enum import StrEnum

from beffroi.interventions.lifecycle import Status


class Channel(StrEnum):
    """How a report reached the hub."""

    OPEN311 = "open311"
    PHONE = "phone"  # the citizen line (Allo Mairie), recorded by an operator


class PublicStatus(StrEnum):
    """Open311's statuses."""

    OPEN = "open"
    CLOSED = "closed"


# Each intervention status: Open311's status, and the sentence a citizen reads.
PUBLIC: dict[Status, tuple[PublicStatus, str]] = {
    Status.NEW: (PublicStatus.OPEN, "Received; waiting to be scheduled"),
    Status.ASSIGNED: (PublicStatus.OPEN, "Scheduled: a crew will come"),
    Status.IN_PROGRESS: (PublicStatus.OPEN, "Work under way"),
    Status.ON_HOLD: (PublicStatus.OPEN, "Work paused; it will resume"),
    Status.RESOLVED: (PublicStatus.CLOSED, "Repaired"),
    Status.CLOSED: (PublicStatus.CLOSED, "Repaired and checked"),
    Status.CANCELLED: (PublicStatus.CLOSED, "Closed without work"),
}


def public_of(status: Status) -> tuple[PublicStatus, str]:
    """Open311's status and the public sentence for an intervention status."""
    return PUBLIC[status]
