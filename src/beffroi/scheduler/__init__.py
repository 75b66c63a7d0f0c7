"""Time-driven work (``beffroi scheduler``, and inside ``beffroi demo``): jobs declared
in :mod:`beffroi.scheduler.registry`, run by :class:`Scheduler`, one instance per job."""

from beffroi.scheduler.job import Job
from beffroi.scheduler.runner import Scheduler
from beffroi.scheduler.triggers import Cron, Every, Trigger, daily

__all__ = ["Cron", "Every", "Job", "Scheduler", "Trigger", "daily"]
