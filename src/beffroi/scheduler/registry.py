"""Every scheduled job of Beffroi, declared in one place (as the catalogue declares the
equipment): the service function each calls, and when.

An area offers the function (``async def f(ctx: Context) -> object``, in its
``jobs.py``); this tuple says when it runs. Runs act as ``scheduler:<name>``.
"""

from __future__ import annotations

from beffroi.energy import jobs as energy_jobs
from beffroi.lighting import jobs as lighting_jobs
from beffroi.mobility import jobs as mobility_jobs
from beffroi.opendata import jobs as opendata_jobs
from beffroi.opendata.datasets import DATASETS
from beffroi.plans import jobs as plans_jobs
from beffroi.reports import jobs as reports_jobs
from beffroi.roads import jobs as roads_jobs
from beffroi.scheduler.job import Job, check_unique
from beffroi.scheduler.triggers import Cron, Every, daily
from beffroi.telemetry import jobs as telemetry_jobs
from beffroi.traffic import jobs as traffic_jobs
from beffroi.vehicles import jobs as vehicles_jobs
from beffroi.video import jobs as video_jobs

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
            "plans.runs",
            plans_jobs.advance_runs,
            Every(10),
            misfire_grace_s=10,
            about="crisis plan runs move on: a command step ends with its batch, a notify "
            "step once its messages went, and the next step starts (docs/plans.md)",
        ),
        Job(
            "roads.lifecycle",
            roads_jobs.advance_situations,
            Every(60),
            about="road situations: planned ones become active at their start, active ones "
            "end at their end (docs/roads.md)",
        ),
        Job(
            "traffic.manual-plans",
            traffic_jobs.end_manual_plans,
            Every(60),
            about="plans imposed by hand that reached their end are noted (the controllers "
            "returned to their timetables by themselves, docs/traffic.md)",
        ),
        Job(
            "traffic.deliveries",
            traffic_jobs.timetables_due,
            Every(60),
            misfire_grace_s=60,
            about="timetables never sent, or unacknowledged past their wait (1 min doubling "
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
        Job(
            "video.sessions",
            video_jobs.end_sessions,
            Every(60),
            about="view sessions past their maximum duration end, registered (docs/video.md)",
        ),
        Job(
            "video.retention",
            video_jobs.apply_retention,
            daily("03:30"),
            misfire_grace_s=12 * 3600,
            about="the VMS deletes each camera's footage older than its authorised period "
            "(30 days at most), except what legal holds keep; deletions are registered",
        ),
        Job(
            "video.register-purge",
            video_jobs.purge_register,
            daily("04:00"),
            misfire_grace_s=12 * 3600,
            about="register entries older than three years purged behind a checkpoint that "
            "keeps the chain verifiable",
        ),
        Job(
            "mobility.feed",
            mobility_jobs.poll_feed,
            Every(5),
            misfire_grace_s=5,
            about="bus priority: the GTFS-Realtime vehicle positions feed read every "
            "BEFFROI_MOBILITY_POLL_S, buses on approaches asking their controller "
            "(docs/mobility.md)",
        ),
        Job(
            "mobility.outcomes",
            mobility_jobs.follow_requests,
            Every(5),
            misfire_grace_s=10,
            about="bus priority requests take their command's outcome and, when granted, "
            "the delay saved",
        ),
        Job(
            "mobility.counts",
            mobility_jobs.aggregate_counts,
            Every(360, offset_s=30),
            misfire_grace_s=300,
            about="traffic counts per lane aggregated to 6-minute and hourly flow, "
            "occupancy and speed (docs/mobility.md)",
        ),
        Job(
            "reports.purge",
            reports_jobs.purge_personal_data,
            daily("03:30"),
            misfire_grace_s=12 * 3600,
            about="citizen reports: contact and photo deleted once their work has been "
            "finished for BEFFROI_REPORTS_PURGE_AFTER_DAYS (docs/reports.md)",
        ),
        Job(
            "vehicles.purge",
            vehicles_jobs.purge_tracks,
            daily("03:45"),
            misfire_grace_s=12 * 3600,
            about="vehicles: track points older than BEFFROI_VEHICLES_TRACK_DAYS deleted "
            "(docs/vehicles.md)",
        ),
        # One job per open dataset, on the schedule its declaration gives.
        *(
            Job(
                f"opendata.{ds.id}",
                opendata_jobs.refresher(ds.id),
                Cron(ds.schedule),
                misfire_grace_s=600,
                jitter_s=30,
                about=f"open data: a new snapshot of {ds.id} (docs/opendata.md)",
            )
            for ds in DATASETS
        ),
    )
)
