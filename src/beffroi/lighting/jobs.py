"""Periodic work of the lighting area, run by the scheduler
(:mod:`beffroi.scheduler.registry`)."""

from __future__ import annotations

import structlog

from beffroi.core.context import Context
from beffroi.lighting.expected import ExpectedLevels
from beffroi.lighting.overrides import close_ended
from beffroi.rules import jobs as rule_jobs

log = structlog.get_logger(__name__)


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
