"""The dates and instants Beffroi accepts, and the types that check them.

Dates and instants given to Beffroi (API parameters, bodies, command parameters) must lie
within :data:`EARLIEST` and :data:`LATEST`: a city's registry and history have nothing
outside them, and date arithmetic near year 1 or 9999 overflows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

from beffroi.core.time import as_utc

EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)
_FIRST = datetime.combine(EARLIEST, time.min, UTC)
_LAST = datetime.combine(LATEST, time.max, UTC)
OUT_OF_RANGE = f"must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}"


def day_in_range(value: date) -> bool:
    """Whether ``value`` lies within the dates Beffroi accepts."""
    return EARLIEST <= value <= LATEST


def instant_in_range(value: datetime) -> bool:
    """Whether an aware ``value`` lies, in UTC, within the dates Beffroi accepts."""
    try:
        utc = as_utc(value)
    except (OverflowError, ValueError):  # year 1 at +14:00 has no UTC
        return False
    return _FIRST <= utc <= _LAST


def _bounded_day(value: date) -> date:
    if not day_in_range(value):
        raise ValueError(OUT_OF_RANGE)
    return value


def _bounded_instant(value: datetime) -> datetime:
    if not instant_in_range(value):
        raise ValueError(f"{OUT_OF_RANGE} (UTC)")
    return value


# The types of every date and instant the API takes (query parameters and bodies): out of
# range, the 422 names the field.
Day = Annotated[date, AfterValidator(_bounded_day)]
Instant = Annotated[AwareDatetime, AfterValidator(_bounded_instant)]
