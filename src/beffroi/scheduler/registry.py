"""Every scheduled job of Beffroi, declared in one place (as the catalogue declares the
equipment): the service function each calls, and when.

An area offers the function (``async def f(ctx: Context) -> object``, in its
``jobs.py``); this tuple says when it runs. Runs act as ``scheduler:<name>``.
"""

from __future__ import annotations

from beffroi.energy import jobs as energy_jobs
from beffroi.scheduler.job import Job, check_unique
from beffroi.scheduler.triggers import Every
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
            "energy.daily-totals",
            energy_jobs.daily_totals,
            Every(3600),
            misfire_grace_s=1800,
            about="daily energy totals of yesterday and today, recomputed from the hourly "
            "rollups (docs/energy.md)",
        ),
    )
)
