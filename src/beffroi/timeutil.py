"""Time helpers: Beffroi stores UTC, timezone-aware, everywhere."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; a naive value is refused rather than guessed."""
    if value.tzinfo is None:
        raise ValueError("a timestamp must carry its UTC offset")
    return value.astimezone(UTC)
