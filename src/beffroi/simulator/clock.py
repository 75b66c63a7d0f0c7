"""Simulated time: the wall clock, or an accelerated one starting wherever you like.

Everything in the simulator takes time from a :class:`SimClock` (or, in the pure parts,
from the ``datetime`` it is handed), never from ``datetime.now()``, so tests decide what
time it is. The clock reads the system time once, at creation, and then only counts
monotonic seconds: a wall-clock jump (NTP, suspend) does not make simulated time jump.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from beffroi.core.time import as_utc, utcnow


class SimClock:
    """Simulated time advancing ``speed`` times faster than real time from ``start``.

    ``speed=1`` and no ``start`` is real time. The hub lives in wall time, the devices in
    simulated time: :meth:`to_wall` and :meth:`to_sim` translate between the two (a
    command's expiry, a message sign's "until").
    """

    def __init__(
        self,
        *,
        speed: float = 1.0,
        start: datetime | None = None,
        wall: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, not {speed!r}")
        self.speed = float(speed)
        self._monotonic = monotonic
        self._origin = monotonic()
        self.wall_start = as_utc(wall())
        self.start = as_utc(start) if start is not None else self.wall_start
        self._start_ts = self.start.timestamp()

    def reset(self, *, follow_wall: bool = False) -> None:
        """Count from now on: simulated time is ``start`` again, or, when following the
        wall clock, the wall-clock time now (a simulator built a while before it runs)."""
        self.wall_start = self.wall_now()
        self._origin = self._monotonic()
        if follow_wall:
            self.start = self.wall_start
            self._start_ts = self.start.timestamp()

    def elapsed_real(self) -> float:
        """Real seconds since the clock was made."""
        return self._monotonic() - self._origin

    def timestamp(self) -> float:
        """Simulated time now, as POSIX seconds (cheap: for schedulers)."""
        return self._start_ts + self.elapsed_real() * self.speed

    def now(self) -> datetime:
        """Simulated time now, in UTC."""
        return self.start + timedelta(seconds=self.elapsed_real() * self.speed)

    def wall_now(self) -> datetime:
        """Wall-clock time now, in UTC, as counted by this clock."""
        return self.wall_start + timedelta(seconds=self.elapsed_real())

    def to_wall(self, sim: datetime) -> datetime:
        """The wall-clock moment at which simulated time reaches ``sim``."""
        return self.wall_start + (as_utc(sim) - self.start) / self.speed

    def to_sim(self, wall: datetime) -> datetime:
        """The simulated time at the wall-clock moment ``wall``."""
        return self.start + (as_utc(wall) - self.wall_start) * self.speed

    def real_delay(self, sim_seconds: float) -> float:
        """Real seconds that ``sim_seconds`` of simulated time take."""
        return sim_seconds / self.speed
