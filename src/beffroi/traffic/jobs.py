"""The traffic area's scheduled work (declared in :mod:`beffroi.scheduler.registry`)."""

from __future__ import annotations

import structlog

from beffroi.core.context import Context
from beffroi.core.time import utcnow
from beffroi.devices.delivery import count_due
from beffroi.traffic.delivery import TIMETABLES
from beffroi.traffic.events import TimetablesDue
from beffroi.traffic.manual import close_ended

log = structlog.get_logger(__name__)


async def end_manual_plans(ctx: Context) -> list[int]:
    """Note the plans imposed by hand that reached their end (the controllers returned to
    their timetables by themselves, told the end when the plan was imposed)."""
    ended = await close_ended(ctx)
    if ended:
        log.info("manual traffic plans ended", selections=ended)
    return ended


async def timetables_due(ctx: Context) -> int:
    """Tell the gateway that timetables are due to be sent: versions never sent, and
    unacknowledged ones whose wait is over (it reads which from the database)."""
    now = utcnow()
    due = await count_due(TIMETABLES, ctx, now=now)
    if due:
        ctx.runtime.events.publish(TimetablesDue(due, now))
    return due
