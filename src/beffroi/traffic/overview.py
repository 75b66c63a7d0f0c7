"""The controllers as the traffic views list them: configured or not, their plans, the
timetable version and whether they run it, a plan imposed by hand."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select

from beffroi.assets import queries as asset_queries
from beffroi.core.context import Context
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.traffic import reading
from beffroi.traffic.models import (
    TrafficConfig,
    TrafficDelivery,
    TrafficManualPlan,
    TrafficPlan,
    TrafficTimetable,
)
from beffroi.traffic.schemas import ControllerSummary


async def list_controllers(ctx: Context) -> list[ControllerSummary]:
    """Every live controller in scope, by id, with where its plans and timetable stand."""
    ctx.principal.require(Permission.ASSET_READ)
    now = utcnow()
    live = asset_queries.id_query(
        types=reading.controller_types(), scope=ctx.principal, only_live=True
    )
    async with ctx.db.read() as session:
        ids = list((await session.scalars(live)).all())
        facts = await asset_queries.facts(session, ids)
        in_live = live.scalar_subquery()
        configured = set(
            (
                await session.scalars(
                    select(TrafficConfig.controller_id).where(
                        TrafficConfig.controller_id.in_(in_live)
                    )
                )
            ).all()
        )
        plans: dict[str, list[int]] = defaultdict(list)
        for cid, number in await session.execute(
            select(TrafficPlan.controller_id, TrafficPlan.number)
            .where(TrafficPlan.controller_id.in_(in_live))
            .order_by(TrafficPlan.number)
        ):
            plans[cid].append(number)
        timetables = {
            cid: (version, acked)
            for cid, version, acked in await session.execute(
                select(
                    TrafficTimetable.controller_id,
                    TrafficTimetable.version,
                    TrafficDelivery.acked_version,
                )
                .outerjoin(TrafficDelivery)
                .where(TrafficTimetable.controller_id.in_(in_live))
            )
        }
        manual: dict[str, int] = _pairs(
            await session.execute(
                select(TrafficManualPlan.controller_id, TrafficManualPlan.plan).where(
                    TrafficManualPlan.controller_id.in_(in_live),
                    TrafficManualPlan.ended_at.is_(None),
                    TrafficManualPlan.ends_at > now,
                )
            )
        )
    out = []
    for cid in sorted(ids):
        version, acked = timetables.get(cid, (None, None))
        out.append(
            ControllerSummary(
                controller_id=cid,
                name=facts[cid].name,
                commune=facts[cid].commune,
                configured=cid in configured,
                plans=plans.get(cid, []),
                timetable_version=version,
                behind=version is not None and (acked is None or acked < version),
                manual_plan=manual.get(cid),
            )
        )
    return out


def _pairs(rows: Any) -> dict[Any, Any]:
    """The two-column rows of a result as a dictionary."""
    return {row[0]: row[1] for row in rows}
