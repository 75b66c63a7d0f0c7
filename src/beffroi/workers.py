"""The background work of a serving process, started the same way by ``serve`` and
``demo``: notifications, work orders from alarms and repair confirmation, the relay of
events between processes (PostgreSQL), and — where no gateway runs beside the API — the
command clock."""

from __future__ import annotations

from beffroi.commands import jobs as command_jobs
from beffroi.core.context import Runtime
from beffroi.core.process import Process
from beffroi.events import relay
from beffroi.interventions import jobs as intervention_jobs
from beffroi.notifications.worker import Notifier

# The gateway closes overdue commands every second; an API process does it too, more
# calmly, so they close on time while no gateway runs.
CLOCK_PERIOD_S = 5.0


def start(process: Process, runtime: Runtime, *, command_clock: bool) -> None:
    """Start the background tasks in ``process``; each returns once it stops."""
    process.start("notifier", Notifier(runtime).run(process.stop))
    process.start("interventions", intervention_jobs.run(runtime, process.stop))
    relay.start(process, runtime)
    if command_clock:
        process.start(
            "command-clock",
            command_jobs.run_clock(runtime.db, runtime.events, process.stop, CLOCK_PERIOD_S),
        )
