"""How the city breathes through the day and the week, as data.

Each curve is a short table of (local hour, value) points, linear in between; a
timetable is a table of (local hour, value) steps. Weekdays, Saturdays and Sundays have
their own table. Values are relative (1.0 = a weekday peak) unless said otherwise.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Final, Generic, TypeVar

T = TypeVar("T")


def hour_of_day(local: datetime) -> float:
    """The local time of day as hours (13:30 -> 13.5)."""
    return local.hour + local.minute / 60 + (local.second + local.microsecond / 1e6) / 3600


@dataclass(frozen=True, slots=True)
class DailyCurve:
    """A value through one day, linear between (hour, value) points from 0 to 24."""

    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        hours = [h for h, _ in self.points]
        if hours[0] != 0 or hours[-1] != 24 or hours != sorted(hours):
            raise ValueError("a daily curve runs through sorted hours from 0 to 24")

    def at(self, hour: float) -> float:
        """The value at ``hour`` (0 <= hour < 24)."""
        i = bisect_right(self.points, hour, key=lambda p: p[0])
        (h0, v0), (h1, v1) = self.points[max(i - 1, 0)], self.points[min(i, len(self.points) - 1)]
        return v0 if h1 == h0 else v0 + (v1 - v0) * (hour - h0) / (h1 - h0)


@dataclass(frozen=True, slots=True)
class WeeklyCurve:
    """A daily curve for weekdays, one for Saturdays and one for Sundays."""

    weekday: DailyCurve
    saturday: DailyCurve
    sunday: DailyCurve

    def at(self, local: datetime) -> float:
        """The value at the local time ``local``."""
        day = (self.weekday, self.weekday, self.weekday, self.weekday, self.weekday,
               self.saturday, self.sunday)[local.weekday()]  # fmt: skip
        return day.at(hour_of_day(local))


@dataclass(frozen=True, slots=True)
class Timetable(Generic[T]):
    """A value that changes in steps at set local times: (time, value) from 00:00 on."""

    weekday: tuple[tuple[time, T], ...]
    weekend: tuple[tuple[time, T], ...]

    def _day(self, local: datetime) -> tuple[tuple[time, T], ...]:
        return self.weekend if local.weekday() >= 5 else self.weekday

    def at(self, local: datetime) -> T:
        """The value in force at the local time ``local``."""
        steps = self._day(local)
        i = bisect_right(steps, local.time(), key=lambda s: s[0])
        return steps[max(i - 1, 0)][1]

    def next_change(self, local: datetime) -> datetime:
        """The first step strictly after ``local`` (a local, zone-aware datetime)."""
        for days in range(8):
            day = local.date() + timedelta(days=days)
            moment_day = datetime.combine(day, time(0), local.tzinfo)
            for at, _ in self._day(moment_day):
                moment = datetime.combine(day, at, local.tzinfo)
                if moment > local:
                    return moment
        raise ValueError("a timetable changes at least once a week")


def _curve(*points: tuple[float, float]) -> DailyCurve:
    return DailyCurve(points)


# Road traffic: a weekday has its morning peak at 08:00 and its evening peak at 17:30.
TRAFFIC: Final = WeeklyCurve(
    weekday=_curve(
        (0, 0.06), (4, 0.05), (5, 0.12), (6, 0.35), (7, 0.75), (8, 1.0), (9, 0.72),
        (10, 0.56), (12, 0.64), (13, 0.6), (14, 0.58), (16, 0.74), (17.5, 0.98), (18.5, 0.8),
        (20, 0.45), (21, 0.32), (22, 0.22), (23, 0.12), (24, 0.06),
    ),
    saturday=_curve(
        (0, 0.12), (3, 0.06), (6, 0.1), (8, 0.3), (10, 0.55), (11.5, 0.7), (13, 0.6),
        (15, 0.7), (17, 0.72), (19, 0.55), (21, 0.35), (23, 0.2), (24, 0.12),
    ),
    sunday=_curve(
        (0, 0.14), (4, 0.06), (7, 0.08), (9, 0.2), (11, 0.4), (12, 0.45), (14, 0.4),
        (16, 0.5), (18, 0.5), (20, 0.35), (22, 0.2), (24, 0.1),
    ),
)  # fmt: skip

# Share of a car park's spaces taken: full in office and shopping hours, empty at night.
CAR_PARK_OCCUPANCY: Final = WeeklyCurve(
    weekday=_curve(
        (0, 0.12), (6, 0.12), (7, 0.25), (8, 0.5), (9, 0.72), (10, 0.85), (11, 0.9),
        (12, 0.85), (14, 0.88), (15, 0.9), (17, 0.8), (18, 0.6), (19, 0.45), (20, 0.35),
        (22, 0.2), (24, 0.12),
    ),
    saturday=_curve(
        (0, 0.15), (8, 0.15), (10, 0.5), (11, 0.75), (14, 0.85), (15, 0.95), (17, 0.9),
        (19, 0.55), (21, 0.3), (24, 0.15),
    ),
    sunday=_curve(
        (0, 0.12), (9, 0.1), (11, 0.3), (13, 0.35), (15, 0.4), (18, 0.3), (20, 0.2),
        (24, 0.12),
    ),
)  # fmt: skip

# Signal timing plans by time of day (plan numbers; a controller with fewer plans uses
# its highest). 1 night, 2 morning peak, 3 off-peak, 4 evening peak.
TRAFFIC_PLANS: Final[Timetable[int]] = Timetable(
    weekday=((time(0), 1), (time(6, 30), 2), (time(9, 30), 3), (time(16, 30), 4),
             (time(19, 30), 3), (time(22), 1)),
    weekend=((time(0), 1), (time(9), 3), (time(21), 1)),
)  # fmt: skip
CYCLE_S_BY_PLAN: Final = {1: 60.0, 2: 90.0, 3: 80.0, 4: 100.0}
DEFAULT_CYCLE_S: Final = 80.0

# Access-controlled streets: scheduled bollards are down for the delivery window.
BOLLARD_POSITION: Final[Timetable[str]] = Timetable(
    weekday=((time(0), "up"), (time(6), "down"), (time(11, 30), "up")),
    weekend=((time(0), "up"), (time(7), "down"), (time(10, 30), "up")),
)
