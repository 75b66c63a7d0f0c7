"""How a long-running process is wired, written once: its named tasks in one task group,
one stop event that Ctrl-C and SIGTERM set, and a clean shutdown.

Every command that runs until stopped (demo, serve, gateway, scheduler, simulate) has the
same shape: start tasks that each return once ``stop`` is set; stop on a signal, when a task
the process cannot do without ends, or when any task fails; give the tasks time to finish
what they hold, then cancel what is still running; and fail with the task's error, not
with a group of them (the command line says one error in one line).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from types import TracebackType
from typing import Any, TypeVar

import structlog

from beffroi.core.tasks import every

log = structlog.get_logger(__name__)

T = TypeVar("T")
SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Time the tasks have to return once the process stops, before they are cancelled.
GRACE_S = 30.0


@contextlib.contextmanager
def stop_on_signals(
    stop: asyncio.Event, signals: tuple[signal.Signals, ...] = SIGNALS
) -> Iterator[asyncio.Event]:
    """While in the block, Ctrl-C and SIGTERM (or ``signals``) ask for a clean stop (set
    ``stop``) rather than interrupt: every part finishes what it holds."""
    loop = asyncio.get_running_loop()
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        yield stop
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


def run(
    main: Callable[[asyncio.Event], Awaitable[T]],
    signals: tuple[signal.Signals, ...] = SIGNALS,
) -> T:
    """Run ``main(stop)`` in a new event loop, ``stop`` being set by Ctrl-C or SIGTERM (or
    ``signals``) from the start (a signal during start-up is a clean stop too)."""

    async def _main() -> T:
        stop = asyncio.Event()
        with stop_on_signals(stop, signals):
            return await main(stop)

    return asyncio.run(_main())


class Process:
    """The named tasks of one process, run in one :class:`asyncio.TaskGroup` that shares
    one stop event.

    ``async with Process(stop) as process:`` then :meth:`start` or :meth:`every` adds a
    task. Leaving the block waits for all of them. They run until ``stop`` is set: by a
    signal, by whoever holds the event, by an ``essential`` task returning, by the block
    raising, or by a task failing. Once the block is left and ``stop`` is set, the tasks
    have ``grace_s`` to return; those still running then are cancelled. A task's failure
    is raised (the first one, alone) once every task is done, so the others stop cleanly
    rather than being cancelled at once as a bare task group would.
    """

    def __init__(self, stop: asyncio.Event | None = None, *, grace_s: float = GRACE_S) -> None:
        self.stop = stop if stop is not None else asyncio.Event()
        self.grace_s = grace_s
        self._group = asyncio.TaskGroup()
        self._tasks: list[asyncio.Task[None]] = []
        self._failures: list[tuple[str, Exception]] = []

    def start(
        self, name: str, work: Coroutine[Any, Any, object], *, essential: bool = False
    ) -> asyncio.Task[None]:
        """Run ``work`` as the task ``name``; with ``essential``, the process stops when it
        returns (the API of a serving process: nothing is left to serve)."""
        task = self._group.create_task(self._guard(name, work, essential), name=name)
        self._tasks.append(task)
        return task

    def every(
        self,
        name: str,
        period_s: float,
        job: Callable[[], Awaitable[object]],
        *,
        at_once: bool = False,
    ) -> asyncio.Task[None]:
        """Run ``job`` every ``period_s`` seconds until the process stops
        (:func:`beffroi.core.tasks.every`: a failed run is logged, not fatal)."""
        return self.start(name, every(period_s, job, self.stop, name=name, at_once=at_once))

    async def _guard(self, name: str, work: Coroutine[Any, Any, object], essential: bool) -> None:
        try:
            await work
        except Exception as exc:  # the process stops cleanly, then fails with it
            self._failures.append((name, exc))
            self.stop.set()
        finally:
            if essential:
                self.stop.set()

    async def __aenter__(self) -> Process:
        await self._group.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, Exception):
            # The block failed: the tasks stop as on a signal, and its error is raised.
            self.stop.set()
            exc_type, exc, tb = None, None, None
        deadline = asyncio.create_task(self._deadline(), name="shutdown-deadline")
        try:
            # Cancellation and interrupts go to the group, which cancels the tasks.
            await self._group.__aexit__(exc_type, exc, tb)
        finally:
            deadline.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await deadline
        if self._failures:
            for name, failure in self._failures[1:]:
                log.error("task failed", task=name, error=repr(failure))
            raise self._failures[0][1]

    async def _deadline(self) -> None:
        """Once stopping, cancel what has not returned within the grace period."""
        await self.stop.wait()
        await asyncio.sleep(self.grace_s)
        for task in self._tasks:
            if not task.done():
                if self.grace_s > 0:
                    log.warning("task did not stop in time; cancelled", task=task.get_name())
                task.cancel()
