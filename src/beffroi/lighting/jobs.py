"""The lighting area's scheduled work (declared in :mod:`beffroi.scheduler.registry`)."""

from __future__ import annotations

import structlog

from beffroi.core.context import Context
from beffroi.core.time import utcnow
from beffroi.lighting.compiling import compile_schedules
from beffroi.lighting.delivery import count_due
from beffroi.lighting.events import DeliveriesDue
from beffroi.lighting.expected import ExpectedLevels
from beffroi.lighting.overrides import close_ended
from beffroi.rules import jobs as rule_jobs

log = structlog.get_logger(__name__)


async def recompile(ctx: Context) -> list[str]:
    """Recompile every cabinet's schedule: the year turning brings next year's holidays,
    a new cabinet gets its first schedule, a change whose event was lost is caught up.
    Versions move only where the content changed, so a day without change costs nothing
    downstream; those that moved are announced for delivery."""
    return await compile_schedules(ctx)


async def deliveries_due(ctx: Context) -> int:
    """Tell the gateway (through the hub's events) that schedules are due to be sent:
    versions never sent, and unacknowledged ones whose wait is over. The gateway reads
    which from the database, so a lost or repeated event costs nothing."""
    now = utcnow()
    due = await count_due(ctx, now=now)
    if due:
        ctx.runtime.events.publish(DeliveriesDue(due, now))
    return due


async def end_overrides(ctx: Context) -> list[int]:
    """Note the overrides that came to their end and prune them from the schedules
    (their state already says ended: this tidies up, audits and tells the hub)."""
    ended = await close_ended(ctx)
    if ended:
        log.info("lighting overrides ended", overrides=ended)
    return ended


async def check_drift(ctx: Context) -> int:
    """Raise and clear the alarms of the ``lighting_drift`` rules: the rules area judges,
    this area says what level each light is asked for. Returns the events published."""
    events = await rule_jobs.check_drift(ctx.db, ExpectedLevels(ctx.settings.timezone))
    ctx.runtime.events.publish_many(events)
    return len(events)
