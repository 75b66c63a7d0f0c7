"""A clock moved by hand, for testing the scheduler without waiting: jobs wait on it, the
test moves it forward and waits until every loop is asleep again."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta


class ManualClock:
    """Time stands still until :meth:`advance`; :meth:`asleep` waits for the sleepers."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []
        self._changed = asyncio.Condition()

    def now(self) -> datetime:
        """The time the test set."""
        return self._now

    async def wait_until(self, moment: datetime, stop: asyncio.Event) -> bool:
        """Wait until the clock is moved to ``moment`` or past it, or ``stop`` is set."""
        if moment <= self._now:
            return stop.is_set()
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (moment, woken)
        stopped: asyncio.Future[bool] = asyncio.ensure_future(stop.wait())
        async with self._changed:
            self._sleepers.append(entry)
            self._changed.notify_all()
        try:
            waits: set[asyncio.Future[object]] = {woken, stopped}  # type: ignore[arg-type]
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if entry in self._sleepers:
                self._sleepers.remove(entry)
        return stop.is_set()

    def advance(self, seconds: float) -> None:
        """Move the clock forward and wake whoever waited until then."""
        self._now += timedelta(seconds=seconds)
        for moment, woken in list(self._sleepers):
            if moment <= self._now:
                self._sleepers.remove((moment, woken))
                if not woken.done():
                    woken.set_result(None)

    async def asleep(self, count: int) -> None:
        """Wait until ``count`` waiters sleep (every loop has done what the last move
        made due, and waits again)."""
        async with asyncio.timeout(20), self._changed:
            await self._changed.wait_for(lambda: len(self._sleepers) >= count)
