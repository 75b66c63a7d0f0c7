"""``beffroi scheduler``: run the time-driven jobs until stopped."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from beffroi.cli.common import out, ready_runtime, settings
from beffroi.cli.serve import bind_socket, build_app, serve_app
from beffroi.core import process
from beffroi.core.context import Runtime
from beffroi.core.process import Process
from beffroi.events import relay
from beffroi.scheduler import Scheduler
from beffroi.scheduler.job import Job


def jobs() -> tuple[Job, ...]:
    """Every declared job. The registry reads every area (open data brings polars along):
    imported when a scheduler starts, not for every command."""
    from beffroi.scheduler.registry import JOBS

    return JOBS


def start(running: Process, runtime: Runtime) -> Scheduler:
    """Start the scheduler with every declared job in ``running`` (``scheduler`` and
    ``demo`` alike)."""
    scheduler = Scheduler(runtime, jobs())
    running.start("scheduler", scheduler.run(running.stop))
    return scheduler


def scheduler(
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve /metrics and /api/health on this port")
    ] = None,
) -> None:
    """Run the scheduled jobs (retention, and what areas schedule) until stopped.

    Several may run on one PostgreSQL database: each job is run by one of them at a time
    and taken over by another when that one stops. On SQLite one runs the jobs, the
    others wait.
    """
    current = settings()
    sock = (
        bind_socket(
            current.host, metrics_port, fallback=False, instead="give --metrics-port a free one"
        )
        if metrics_port
        else None
    )

    async def _main(stop: asyncio.Event) -> None:
        async with ready_runtime(current) as runtime, Process(stop) as scheduling:
            start(scheduling, runtime)
            # What the jobs publish reaches the API processes' hubs (PostgreSQL).
            relay.start(scheduling, runtime)
            if sock is not None:
                app = build_app(runtime, operations_only=True)
                scheduling.start("operations-api", serve_app(app, sock, stop))
            for job in jobs():
                out.print(f"scheduled: {job.name} ({job.trigger.describe()})")
            out.print("scheduler running")
        out.print("scheduler stopped")

    process.run(_main)
