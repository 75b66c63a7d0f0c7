"""The channels a notification goes by, and where a delivery stands."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """How a route sends."""

    WEBHOOK = "webhook"
    EMAIL = "email"


class DeliveryState(StrEnum):
    """A delivery is pending until it is sent, or until its attempts run out (failed)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
