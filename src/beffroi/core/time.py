"""Time helpers: Beffroi stores UTC, timezone-aware, everywhere."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache

import holidays


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; a naive value is refused rather than guessed."""
    if value.tzinfo is None:
        raise ValueError("a timestamp must carry its UTC offset")
    return value.astimezone(UTC)


@lru_cache(maxsize=64)
def public_holidays(
    year: int, country: str = "FR", subdivision: str | None = None
) -> frozenset[date]:
    """The public holidays of ``country`` (ISO code) in ``year``: for France, the eleven of
    the metropolitan calendar (Alsace-Moselle's two more with ``subdivision="57"``, say)."""
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))
