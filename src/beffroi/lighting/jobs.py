"""The lighting area's scheduled work (declared in :mod:`beffroi.scheduler.registry`)."""

from __future__ import annotations

from beffroi.core.context import Context
from beffroi.core.time import utcnow
from beffroi.lighting.compiling import compile_schedules
from beffroi.lighting.delivery import count_due
from beffroi.lighting.events import DeliveriesDue


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
