"""Periodic work of long-running processes, written once.

Every process (demo, serve, gateway, scheduler) runs jobs every so often until it is told
to stop: :func:`every` is that loop. A failed run is logged and the job runs again at its
next period; stopping interrupts the wait, never a run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable

import structlog

log = structlog.get_logger(__name__)


async def every(
    period_s: float,
    job: Callable[[], Awaitable[object]],
    stop: asyncio.Event,
    *,
    name: str | None = None,
    at_once: bool = False,
) -> None:
    """Run ``job`` every ``period_s`` seconds (first at once with ``at_once``) until
    ``stop`` is set. An exception in a run is logged with the job's name, not raised."""
    label = name or getattr(job, "__name__", "job")
    if not at_once and await pause(stop, period_s):
        return
    while not stop.is_set():
        try:
            await job()
        except Exception:  # a failed run is logged and tried again next period
            log.exception("periodic job failed", job=label)
        if await pause(stop, period_s):
            return


async def pause(stop: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds``, or less if ``stop`` is set meanwhile; whether it is time to stop."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()


async def cancel_all(tasks: Iterable[asyncio.Task[object]]) -> None:
    """Cancel ``tasks`` and wait until each has ended, so none is left behind (their own
    errors are theirs: only what is raised while waiting propagates)."""
    pending = list(tasks)
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError):
            await task
