"""The clock's moves: planned situations become active at their start, active ones end
at their end. Run by the ``roads.lifecycle`` job; idempotent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from beffroi.core.context import Context
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.roads.events import SituationChanged
from beffroi.roads.models import RoadSituation
from beffroi.roads.reading import communes_of
from beffroi.roads.schemas import LifecycleResult
from beffroi.roads.situation import OPEN, Status, due_status


async def advance(ctx: Context, now: datetime | None = None) -> LifecycleResult:
    """Move every open situation to the status its period gives at ``now``; one audit
    entry names those activated and those ended."""
    now = now or utcnow()
    async with change(ctx, "road_situation.lifecycle", target_type="road_situation") as uc:
        ctx.principal.require(Permission.ROADS_MANAGE)
        rows = (
            await uc.session.execute(
                select(RoadSituation)
                .where(RoadSituation.status.in_([s.value for s in OPEN]))
                .order_by(RoadSituation.id)
                .with_for_update()
            )
        ).scalars()
        activated: list[int] = []
        ended: list[int] = []
        moved: list[RoadSituation] = []
        for row in rows:
            due = due_status(row.starts_at, row.ends_at, now)
            if due.value == row.status:
                continue
            row.status = due.value
            row.version += 1
            row.updated_at = now
            (ended if due is Status.ENDED else activated).append(row.id)
            moved.append(row)
        if moved:
            communes = await communes_of(uc.session, [r.id for r in moved])
            uc.publish(
                *(
                    SituationChanged(r.id, r.status, "lifecycle", now, tuple(communes[r.id]))
                    for r in moved
                )
            )
            await uc.session.flush()
            uc.audit(details={"activated": activated, "ended": ended})
    return LifecycleResult(activated=activated, ended=ended)
