"""When a scheduled job is due: every so many seconds, or at times of a cron expression
in local time (``daily`` is the common case).

Due times are the same in every instance and across restarts (an interval is counted
from the Unix epoch, a cron expression is read on the wall clock), so instances agree on
which due time a run belongs to. Cron arithmetic is cronsim's: it follows the city's
daylight-saving changes as cron does (a time in the skipped hour runs once just after it,
a time in the repeated hour runs once).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class Trigger(Protocol):
    """The due times of a job. ``zone`` is the city's time zone, for triggers that read
    the wall clock and were not given one of their own."""

    def next_after(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The first due time strictly after ``moment`` (UTC)."""
        ...

    def latest_at(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The newest due time at or before ``moment`` (UTC)."""
        ...

    def describe(self) -> str:
        """The trigger in a few words, for logs and the command line."""
        ...


@dataclass(frozen=True, slots=True)
class Every:
    """Due every ``seconds``, on a grid counted from the Unix epoch (plus ``offset_s``):
    ``Every(3600)`` is due on every hour, whenever the process started."""

    seconds: float
    offset_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.seconds >= 0.001:  # also refuses NaN
            raise ValueError(f"an interval must be at least 1 ms, got {self.seconds!r}")
        if not 0 <= self.offset_s < self.seconds:
            raise ValueError(f"an offset must be in [0, {self.seconds}), got {self.offset_s!r}")

    def _step(self) -> timedelta:
        return timedelta(seconds=self.seconds)

    def latest_at(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The newest grid point at or before ``moment``."""
        origin = EPOCH + timedelta(seconds=self.offset_s)
        step = self._step()
        return origin + step * ((moment - origin) // step)

    def next_after(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The first grid point strictly after ``moment``."""
        return self.latest_at(moment, zone) + self._step()

    def describe(self) -> str:
        """``every 3600 s``."""
        return f"every {self.seconds:g} s" + (f" (+{self.offset_s:g} s)" if self.offset_s else "")


@dataclass(frozen=True, slots=True)
class Cron:
    """Due at the times of a five-field cron expression (minute hour day month weekday)
    on the wall clock of ``timezone`` (default: the city's, ``BEFFROI_TIMEZONE``)."""

    expression: str
    timezone: str | None = None

    def __post_init__(self) -> None:
        if self.timezone is not None:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {self.timezone!r}") from None
        try:
            CronSim(self.expression, datetime.now(UTC))
        except CronSimError as exc:
            raise ValueError(f"bad cron expression {self.expression!r}: {exc}") from None

    def _zone(self, zone: ZoneInfo) -> ZoneInfo:
        return ZoneInfo(self.timezone) if self.timezone else zone

    def next_after(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The first time of the expression strictly after ``moment``."""
        local = moment.astimezone(self._zone(zone))
        return next(CronSim(self.expression, local)).astimezone(UTC)

    def latest_at(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The newest time of the expression at or before ``moment``."""
        local = (moment + _ONE_US).astimezone(self._zone(zone))
        return next(CronSim(self.expression, local, reverse=True)).astimezone(UTC)

    def describe(self) -> str:
        """``cron '0 0 * * *' (Europe/Paris)``."""
        return f"cron {self.expression!r}" + (f" ({self.timezone})" if self.timezone else "")


def daily(at: str | time, timezone: str | None = None) -> Cron:
    """Due once a day at ``at`` (``"HH:MM"``) local time: a calendar changing day at
    ``daily("00:00")``."""
    if isinstance(at, str):
        match = _HH_MM.match(at)
        if match is None:
            raise ValueError(f"a time of day is HH:MM (00:00 to 23:59), got {at!r}")
        at = time(int(match[1]), int(match[2]))
    if at.second or at.microsecond:
        raise ValueError(f"a daily time is to the minute, got {at.isoformat()}")
    return Cron(f"{at.minute} {at.hour} * * *", timezone)
