"""Every scheduled job of Beffroi, declared in one place (as the catalogue declares the
equipment): the service function each calls, and when.

An area offers the function (``async def f(ctx: Context) -> object``, in its
``jobs.py``); this tuple says when it runs. Runs act as ``scheduler:<name>``.
"""

from __future__ import annotations

from beffroi.energy import jobs as energy_jobs
from beffroi.lighting import jobs as lighting_jobs
from beffroi.scheduler.job import Job, check_unique
from beffroi.scheduler.triggers import Every, daily
from beffroi.telemetry import jobs as telemetry_jobs

JOBS: tuple[Job, ...] = check_unique(
    (
        Job(
            "telemetry.maintenance",
            telemetry_jobs.maintain_storage,
            Every(3600),
            misfire_grace_s=1800,
            about="hourly rollups, retention of points and rollups, partitions ahead, "
            "pruning of kept rejects",
        ),
        Job(
            "lighting.overrides",
            lighting_jobs.end_overrides,
            Every(60),
            about="notes the overrides that came to their end (their state is derived from "
            "the clock) and prunes them from the cabinets' schedules",
        ),
        Job(
            "lighting.drift",
            lighting_jobs.check_drift,
            Every(60),
            about="lighting_drift rules: a light's reported level against its program and "
            "overrides, beyond a tolerance for longer than a delay, raises an alarm",
        ),
        Job(
            "lighting.recompile",
            lighting_jobs.recompile,
            daily("00:05"),
            misfire_grace_s=6 * 3600,
            about="every cabinet's schedule recompiled: the year turning (holiday dates), "
            "new cabinets; versions move only where the content changed",
        ),
        Job(
            "lighting.deliveries",
            lighting_jobs.deliveries_due,
            Every(60),
            misfire_grace_s=60,
            about="schedules never sent, or unacknowledged past their wait (1 min doubling "
            "to 1 h): the gateway is told to send them",
        ),
        Job(
            "energy.daily-totals",
            energy_jobs.daily_totals,
            Every(3600),
            misfire_grace_s=1800,
            about="daily energy totals of yesterday and today, recomputed from the hourly "
            "rollups (docs/energy.md)",
        ),
    )
)
