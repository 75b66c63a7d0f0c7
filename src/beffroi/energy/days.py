"""Local days in UTC: their bounds, their off-peak hours, their share of a year's nights."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from beffroi.core.sun import SunCalendar


def bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """``[start, end)`` of a local day in UTC (23 or 25 hours on the clock-change days)."""
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    return start, end


def offpeak_buckets(day: date, zone: ZoneInfo, hours: frozenset[int]) -> list[datetime]:
    """The UTC starts of the hours of local ``day`` whose local hour is off-peak."""
    start, end = bounds(day, zone)
    count = int((end - start).total_seconds() // 3600)
    moments = (start + timedelta(hours=h) for h in range(count))
    return [m for m in moments if m.astimezone(zone).hour in hours]


def runs(hours: list[datetime]) -> list[tuple[datetime, datetime]]:
    """Sorted hour starts as ``[start, end)`` runs of consecutive hours."""
    out: list[tuple[datetime, datetime]] = []
    for moment in sorted(hours):
        if out and out[-1][1] == moment:
            out[-1] = (out[-1][0], moment + timedelta(hours=1))
        else:
            out.append((moment, moment + timedelta(hours=1)))
    return out


def dark_hours(sun: SunCalendar, day: date) -> float:
    """Hours of local ``day`` between midnight and sunrise and between sunset and midnight."""
    start, end = bounds(day, sun.zone)
    today = sun.day(day)
    seconds = max(0.0, (today.sunrise - start).total_seconds()) + max(
        0.0, (end - today.sunset).total_seconds()
    )
    return seconds / 3600


def _dark_hours_of_year(sun: SunCalendar, year: int) -> float:
    where = sun.observer
    return _year_total(where.latitude, where.longitude, str(sun.zone), year)


# By place, not by calendar: a new SunCalendar is built per request.
@lru_cache(maxsize=64)
def _year_total(latitude: float, longitude: float, zone: str, year: int) -> float:
    sun = SunCalendar(latitude, longitude, zone)
    first = date(year, 1, 1)
    return sum(dark_hours(sun, first + timedelta(days=d)) for d in range(_days_in(year)))


def _days_in(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def year_share(sun: SunCalendar | None, day: date) -> float:
    """The share of its year's burning that local ``day`` holds: its dark hours over the
    year's (a December night weighs twice a June one), or one day's share without a sun
    calendar (no commune placed on the map)."""
    if sun is None:
        return 1 / _days_in(day.year)
    total = _dark_hours_of_year(sun, day.year)
    return dark_hours(sun, day) / total if total > 0 else 1 / _days_in(day.year)
