"""Sunrise, sunset and "is it dark" for the city: the astronomical clock of public lighting.

Computed with ``astral`` for one point (the city centre, from the communes); across a
metropolis of 20 km the difference is seconds. Days are cached: the whole fleet asks the
same few questions.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Final, Protocol
from zoneinfo import ZoneInfo

from astral import Observer
from astral.sun import elevation, sun

_CACHE_DAYS = 800  # two years of simulated days, the least recently asked forgotten first

# The night dimming profile, while it is dark: from 05:00 full light, from 23:00 half.
# So: 100 % from sunset to 23:00, 50 % until 05:00, 100 % again until sunrise.
NIGHT_PROFILE: Final[tuple[tuple[time, float], ...]] = ((time(5), 100.0), (time(23), 50.0))


@dataclass(frozen=True, slots=True)
class SunDay:
    """Sunrise and sunset of one local day, in UTC. Equal for a day of polar night."""

    day: date
    sunrise: datetime
    sunset: datetime


class SunCalendar:
    """The sun over one place: sunrise, sunset, darkness and elevation at any moment."""

    def __init__(self, latitude: float, longitude: float, timezone: str = "Europe/Paris") -> None:
        if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
            raise ValueError(f"not a WGS84 position: lat {latitude}, lon {longitude}")
        self.observer = Observer(latitude=latitude, longitude=longitude)
        self.zone = ZoneInfo(timezone)
        # functools' cache, not cachetools': it is asked thousands of times a second.
        self._day: Callable[[date], SunDay] = lru_cache(_CACHE_DAYS)(self._compute)

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the city's time zone."""
        return moment.astimezone(self.zone)

    def day(self, local_day: date) -> SunDay:
        """Sunrise and sunset of a local day (cached)."""
        return self._day(local_day)

    def _compute(self, local_day: date) -> SunDay:
        try:
            times = sun(self.observer, local_day, tzinfo=self.zone)
            return SunDay(
                local_day, times["sunrise"].astimezone(UTC), times["sunset"].astimezone(UTC)
            )
        except ValueError:
            # Far north or south the sun may not rise or set at all that day.
            start = datetime.combine(local_day, time(0), self.zone).astimezone(UTC)
            noon = datetime.combine(local_day, time(12), self.zone).astimezone(UTC)
            if elevation(self.observer, noon) > 0:  # polar day: light from midnight to midnight
                return SunDay(local_day, start, start + timedelta(days=1))
            return SunDay(local_day, noon, noon)  # polar night: dark all day

    def is_dark(self, moment: datetime) -> bool:
        """Whether the sun is below the horizon at ``moment``."""
        today = self.day(self.local(moment).date())
        return moment < today.sunrise or moment >= today.sunset

    def elevation(self, moment: datetime) -> float:
        """The sun's elevation above the horizon, in degrees (negative at night)."""
        return float(elevation(self.observer, moment))

    def switch_times(self, moment: datetime) -> Iterator[datetime]:
        """Sunrises and sunsets from the local day of ``moment`` on, in order (endless)."""
        day = self.local(moment).date()
        while True:
            today = self.day(day)
            yield today.sunrise
            yield today.sunset
            day += timedelta(days=1)

    def next_switch(self, moment: datetime) -> datetime:
        """The first sunrise or sunset strictly after ``moment``."""
        return next(t for t in self.switch_times(moment) if t > moment)


@dataclass(frozen=True, slots=True)
class _ProgrammeDay:
    """One local day of the lighting programme: when the level changes, and to what."""

    opening: float  # the level from local midnight to the first change
    changes: list[datetime]  # in UTC, sorted
    levels: list[float]  # the level from each change on


class LightingProgramme:
    """The lights' astronomical clock: lit from sunset to sunrise, at the level the night
    profile gives for the local time.

    Each day is worked out once as a short list of changes; asking the level is then a
    binary search (the whole fleet asks it thousands of times a second).
    """

    def __init__(
        self, sun: SunCalendar, profile: Sequence[tuple[time, float]] = NIGHT_PROFILE
    ) -> None:
        if not profile:
            raise ValueError("a night profile needs at least one step")
        self.sun = sun
        self.profile = tuple(sorted(profile))
        self._day: Callable[[date], _ProgrammeDay] = lru_cache(_CACHE_DAYS)(self._work_out)

    def _profile_level(self, moment: datetime) -> float:
        """The profile's level at the local time of ``moment`` (the last step before it,
        the day wrapping round)."""
        now = self.sun.local(moment).time()
        level = self.profile[-1][1]
        for at, step_level in self.profile:
            if at <= now:
                level = step_level
        return level

    def _worked_out(self, moment: datetime) -> float:
        return self._profile_level(moment) if self.sun.is_dark(moment) else 0.0

    def _work_out(self, local_day: date) -> _ProgrammeDay:
        today = self.sun.day(local_day)
        steps = [
            datetime.combine(local_day, at, self.sun.zone).astimezone(UTC) for at, _ in self.profile
        ]
        changes = sorted({today.sunrise, today.sunset, *steps})
        midnight = datetime.combine(local_day, time(0), self.sun.zone).astimezone(UTC)
        return _ProgrammeDay(
            self._worked_out(midnight), changes, [self._worked_out(c) for c in changes]
        )

    def level(self, moment: datetime) -> float:
        """The scheduled light level at ``moment``: 0 by day, the profile's by night."""
        day = self._day(self.sun.local(moment).date())
        index = bisect_right(day.changes, moment)
        return day.levels[index - 1] if index else day.opening

    def next_change(self, moment: datetime) -> datetime:
        """The first moment strictly after ``moment`` when the scheduled level may change."""
        local_day = self.sun.local(moment).date()
        for offset in range(3):
            changes = self._day(local_day + timedelta(days=offset)).changes
            index = bisect_right(changes, moment)
            if index < len(changes):
                return changes[index]
        return moment + timedelta(days=1)  # unreachable with a real profile; stay safe


class Located(Protocol):
    """Anything with a position and a population (a commune row or record)."""

    @property
    def lat(self) -> float: ...

    @property
    def lon(self) -> float: ...

    @property
    def population(self) -> int: ...


def city_centre(communes: Sequence[Located]) -> tuple[float, float]:
    """(latitude, longitude) of the population-weighted centre of ``communes``.

    For Dijon métropole that lands in Dijon, a few hundred metres from the centre: close
    enough for sunset to the second.
    """
    if not communes:
        raise ValueError("at least one commune is needed to place the city")
    weights = [max(c.population, 0) or 1 for c in communes]
    total = sum(weights)
    lat = sum(c.lat * w for c, w in zip(communes, weights, strict=True)) / total
    lon = sum(c.lon * w for c, w in zip(communes, weights, strict=True)) / total
    return lat, lon
