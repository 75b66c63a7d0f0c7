"""The background work of a serving process, started the same way by ``serve`` and
``demo``: notifications, work orders from alarms and repair confirmation, the relay of
events between processes (PostgreSQL), and — where no gateway runs beside the API — the
command clock."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from beffroi.commands import jobs as command_jobs
from beffroi.core.context import Runtime
from beffroi.events import relay
from beffroi.interventions import jobs as intervention_jobs
from beffroi.notifications.worker import Notifier

# The gateway closes overdue commands every second; an API process does it too, more
# calmly, so they close on time while no gateway runs.
CLOCK_PERIOD_S = 5.0


def start(
    runtime: Runtime, stop: asyncio.Event, *, command_clock: bool
) -> list[asyncio.Task[None]]:
    """Start the background tasks; each returns once ``stop`` is set."""
    tasks = [
        asyncio.create_task(Notifier(runtime).run(stop), name="notifier"),
        asyncio.create_task(intervention_jobs.run(runtime, stop), name="interventions"),
        relay.start(runtime, stop),
    ]
    if command_clock:
        tasks.append(
            asyncio.create_task(
                command_jobs.run_clock(runtime.db, runtime.events, stop, CLOCK_PERIOD_S),
                name="command-clock",
            )
        )
    return tasks


async def finish(tasks: Sequence[asyncio.Task[None]], timeout_s: float = 30.0) -> None:
    """Wait for the tasks to return after ``stop``; cancel what is still running then."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=timeout_s)
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError):
            await task
