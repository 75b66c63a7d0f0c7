"""The scheduler: runs each declared job at its due times, in one instance at a time.

Each job has a loop of its own in this instance. The loop holds the job (``claims``) or
waits for it; while it holds it, it waits for the next due time, checks it still holds
the job, and runs it. A run is awaited before the next is planned, so a job is never
started twice at once: due times passed during a long run are merged into one run of the
latest, or skipped and counted if it is already past the job's grace. A run that fails
is logged and counted, and the job runs again at its next due time; nothing a job raises
stops the process.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog

from beffroi import metrics
from beffroi.core.context import Runtime
from beffroi.core.process import Process
from beffroi.scheduler.claims import Claims, claims_for
from beffroi.scheduler.clock import Clock, WallClock
from beffroi.scheduler.job import Job, check_unique

log = structlog.get_logger(__name__)

# How often an instance that does not hold a job tries to take it over.
RETRY_S = 5.0


class Scheduler:
    """The jobs of one scheduler instance; :meth:`run` runs them until stopped."""

    def __init__(
        self,
        runtime: Runtime,
        jobs: Sequence[Job],
        *,
        clock: Clock | None = None,
        claims: Claims | None = None,
        retry_s: float = RETRY_S,
    ) -> None:
        self.runtime = runtime
        self.jobs = check_unique(jobs)
        self.clock: Clock = clock or WallClock()
        self.claims = claims or claims_for(runtime.db)
        self.retry_s = retry_s
        self.zone = runtime.settings.zone
        self._random = random.Random()  # noqa: S311 (jitter spreads load, it guards nothing)

    async def run(self, stop: asyncio.Event) -> None:
        """Run every job at its due times until ``stop`` is set; a run under way when it
        is set is left to finish (within the process's grace period)."""
        async with self.claims, Process(stop) as loops:
            for job in self.jobs:
                loops.start(f"job:{job.name}", self._loop(job, stop))

    async def _loop(self, job: Job, stop: asyncio.Event) -> None:
        clock = self.clock
        # The newest due time this instance has dealt with (run or skipped), while it
        # holds the job; None before it holds it.
        handled: datetime | None = None
        while not stop.is_set():
            if not await self.claims.hold(job.name):
                if handled is not None:
                    log.info("scheduled job given up: held elsewhere, or no database", job=job.name)
                    handled = None
                metrics.SCHEDULER_JOBS_HELD.labels(job.name).set(0)
                if await clock.wait_until(clock.now() + timedelta(seconds=self.retry_s), stop):
                    return
                continue
            now = clock.now()
            latest = job.trigger.latest_at(now, self.zone)
            late_s = (now - latest).total_seconds()
            if handled is None:
                # Just taken: catch up the latest due time only if it is not too old.
                metrics.SCHEDULER_JOBS_HELD.labels(job.name).set(1)
                log.info("scheduled job held", job=job.name, trigger=job.trigger.describe())
                handled = latest - timedelta(microseconds=1)
                if late_s > job.misfire_grace_s:
                    handled = latest
            if latest > handled:
                handled = latest
                if late_s > job.misfire_grace_s:
                    metrics.SCHEDULER_MISFIRES.labels(job.name).inc()
                    log.warning(
                        "scheduled run skipped: too late",
                        job=job.name,
                        due=latest.isoformat(),
                        late_s=round(late_s, 3),
                        grace_s=job.misfire_grace_s,
                    )
                else:
                    await self._run_once(job, latest, now)
                continue
            due = job.trigger.next_after(now, self.zone)
            jitter = self._random.uniform(0, job.jitter_s) if job.jitter_s else 0.0
            if await clock.wait_until(due + timedelta(seconds=jitter), stop):
                return

    async def _run_once(self, job: Job, due: datetime, now: datetime) -> None:
        """Run ``job`` for its due time ``due``: logged, measured, and never raising."""
        lag_s = max((now - due).total_seconds(), 0.0)
        metrics.SCHEDULER_LAG.labels(job.name).observe(lag_s)
        ctx = self.runtime.system_context(f"scheduler:{job.name}")
        started = time.perf_counter()
        outcome = "failed"
        try:
            await job.run(ctx)
            outcome = "succeeded"
        except Exception:  # the job runs again at its next due time
            log.exception("scheduled job failed", job=job.name, due=due.isoformat())
        finally:
            duration_s = time.perf_counter() - started
            metrics.SCHEDULER_RUNS.labels(job.name, outcome).inc()
            metrics.SCHEDULER_DURATION.labels(job.name).observe(duration_s)
        if outcome == "succeeded":
            log.info(
                "scheduled job ran",
                job=job.name,
                due=due.isoformat(),
                lag_s=round(lag_s, 3),
                duration_s=round(duration_s, 3),
            )
