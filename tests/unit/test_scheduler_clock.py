"""The scheduler's wall clock: a moment already past does not wait; a stop ends a wait."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from beffroi.core.time import utcnow
from beffroi.scheduler.clock import WallClock


async def test_a_moment_already_past_does_not_wait() -> None:
    stop = asyncio.Event()
    async with asyncio.timeout(1):
        assert await WallClock().wait_until(utcnow() - timedelta(seconds=1), stop) is False


async def test_a_stop_ends_a_long_wait() -> None:
    stop = asyncio.Event()
    waiting = asyncio.create_task(WallClock().wait_until(utcnow() + timedelta(hours=1), stop))
    await asyncio.sleep(0)
    stop.set()
    async with asyncio.timeout(1):
        assert await waiting is True


async def test_a_short_wait_ends_at_its_moment() -> None:
    stop = asyncio.Event()
    moment = utcnow() + timedelta(milliseconds=20)
    async with asyncio.timeout(5):
        assert await WallClock().wait_until(moment, stop) is False
    assert utcnow() >= moment
