"""The states of a command and of its verification, and which moves between them are legal.

A command moves forward only: created → (awaiting_approval) → queued → sent → accepted →
one final state. A retry after a timeout sends it again (``sent`` → ``queued``). Nothing
leaves a final state, which is what makes duplicate and late replies harmless.
"""

from __future__ import annotations

from enum import StrEnum


class CommandState(StrEnum):
    """Where a command is in its life."""

    CREATED = "created"
    AWAITING_APPROVAL = "awaiting_approval"
    QUEUED = "queued"
    SENT = "sent"
    ACCEPTED = "accepted"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


S = CommandState
FINAL = frozenset({S.SUCCEEDED, S.FAILED, S.REJECTED, S.EXPIRED, S.CANCELLED})
OPEN = frozenset(set(S) - FINAL)

# Every legal move. Anything else is refused, with the current state in the error.
TRANSITIONS: dict[CommandState, frozenset[CommandState]] = {
    S.CREATED: frozenset({S.AWAITING_APPROVAL, S.QUEUED, S.REJECTED}),
    S.AWAITING_APPROVAL: frozenset({S.QUEUED, S.REJECTED, S.EXPIRED, S.CANCELLED}),
    S.QUEUED: frozenset(
        # A reply to an earlier attempt may arrive while a retry waits in the queue.
        {S.SENT, S.ACCEPTED, S.SUCCEEDED, S.FAILED, S.REJECTED, S.EXPIRED, S.CANCELLED}
    ),
    S.SENT: frozenset(
        {S.QUEUED, S.ACCEPTED, S.SUCCEEDED, S.FAILED, S.REJECTED, S.EXPIRED, S.CANCELLED}
    ),
    S.ACCEPTED: frozenset({S.SUCCEEDED, S.FAILED, S.EXPIRED, S.CANCELLED}),
    **{final: frozenset() for final in FINAL},
}

# States in which the device may already have the command (so a reply is expected).
DELIVERED = frozenset({S.QUEUED, S.SENT, S.ACCEPTED})


def can_move(current: CommandState, target: CommandState) -> bool:
    """Whether ``current`` → ``target`` is a legal move."""
    return target in TRANSITIONS[current]


class Verification(StrEnum):
    """Whether the device's telemetry confirmed what its reply said."""

    NOT_APPLICABLE = "not_applicable"  # the type does not report the commanded state
    PENDING = "pending"
    VERIFIED = "verified"
    MISMATCH = "mismatch"  # the reply said succeeded, the reported state disagrees
    UNCONFIRMED = "unconfirmed"  # no telemetry arrived within the verification window
    SUPERSEDED = "superseded"  # a newer command to the same asset changed the same state


# The outcomes that reported state may still change: what the tracker looks for on an
# asset with readings (and what the index ``ix_commands_awaiting_verification`` holds).
AWAITING = (Verification.PENDING.value, Verification.MISMATCH.value)


class BatchState(StrEnum):
    """Where a group command is: its children carry the detail."""

    AWAITING_APPROVAL = "awaiting_approval"
    RUNNING = "running"
    DONE = "done"
    REJECTED = "rejected"  # approval denied
    EXPIRED = "expired"  # approval not given in time
    CANCELLED = "cancelled"
