"""The scheduler's clock: what time it is, and waiting for a moment (or a stop).

The runner takes it as a parameter so tests move time by hand instead of sleeping.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Protocol

from beffroi.core.tasks import pause
from beffroi.core.time import utcnow

# Long waits are cut into steps and the wall clock read again after each, so a clock set
# forward or back (NTP, a virtual machine resumed) moves due times with it.
STEP_S = 30.0


class Clock(Protocol):
    """What time it is, and how to wait until a moment."""

    def now(self) -> datetime:
        """The current time, UTC."""
        ...

    async def wait_until(self, moment: datetime, stop: asyncio.Event) -> bool:
        """Wait until ``moment`` or until ``stop`` is set; whether it is time to stop."""
        ...


class WallClock:
    """The system's clock."""

    def now(self) -> datetime:
        """The current time, UTC."""
        return utcnow()

    async def wait_until(self, moment: datetime, stop: asyncio.Event) -> bool:
        """Wait until ``moment`` on the wall clock, or until ``stop`` is set."""
        while not stop.is_set():
            left = (moment - utcnow()).total_seconds()
            if left <= 0:
                return False
            if await pause(stop, min(left, STEP_S)):
                return True
        return True
