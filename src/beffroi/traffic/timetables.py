"""Controllers' timetables: stored, compiled into the document each controller runs by
itself (its switch points and the plans they name, in its time zone), versioned, and
handed to delivery (:mod:`beffroi.traffic.delivery`). The version rises only when the
document's content changes: a plan edited, a timetable replaced."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as asset_queries
from beffroi.core.context import Context
from beffroi.core.errors import InvalidInput, NotFound
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import UseCase, change
from beffroi.traffic import reading
from beffroi.traffic.events import TimetablesCompiled
from beffroi.traffic.models import TrafficDelivery, TrafficPlan, TrafficTimetable
from beffroi.traffic.rights import require_planner
from beffroi.traffic.schemas import TimetableIn, TimetableOut
from beffroi.traffic.timetable import SwitchPoint, check_timetable, next_switch, plan_at


def points_of(entries: Sequence[dict[str, Any]]) -> list[SwitchPoint]:
    """The switch points of stored entries (``{"days", "start": "HH:MM", "plan"}``)."""
    return [
        SwitchPoint(tuple(e["days"]), time.fromisoformat(e["start"]), int(e["plan"]))
        for e in entries
    ]


def _content_hash(document: dict[str, Any]) -> str:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def document(
    controller_id: str,
    timezone: str,
    entries: Sequence[dict[str, Any]],
    plans: Sequence[TrafficPlan],
) -> dict[str, Any]:
    """The timetable document a controller runs, without its version: switch points in
    local time of ``timezone``, and every plan they name."""
    named = {int(e["plan"]) for e in entries}
    return {
        "controller_id": controller_id,
        "timezone": timezone,
        "entries": list(entries),
        "plans": [
            {
                "number": p.number,
                "cycle_s": p.cycle_s,
                "offset_s": p.offset_s,
                "stages": p.stages,
            }
            for p in sorted(plans, key=lambda p: p.number)
            if p.number in named
        ],
    }


async def _plans(session: AsyncSession, controller_id: str) -> list[TrafficPlan]:
    rows = await session.scalars(
        select(TrafficPlan).where(TrafficPlan.controller_id == controller_id)
    )
    return list(rows)


async def plans_in_use(session: AsyncSession, controller_id: str) -> set[int]:
    """The plan numbers the controller's timetable names."""
    row = await session.get(TrafficTimetable, controller_id)
    return set() if row is None else {int(e["plan"]) for e in row.entries}


async def recompile_in(uc: UseCase, controller_id: str) -> bool:
    """Rebuild the controller's timetable document (its plans may have changed) inside a
    use case under way; a new version only when the content changed. True if it moved."""
    row = await uc.session.get(TrafficTimetable, controller_id)
    if row is None:
        return False
    return store_document(uc, row, row.entries, await _plans(uc.session, controller_id))


def store_document(
    uc: UseCase,
    row: TrafficTimetable,
    entries: list[dict[str, Any]],
    plans: Sequence[TrafficPlan],
) -> bool:
    """Set ``row``'s entries and rebuild its document; a new version (announced for
    delivery once the use case commits) only when the content changed."""
    body = document(row.controller_id, uc.ctx.settings.timezone, entries, plans)
    digest = _content_hash(body)
    row.entries = entries
    if digest == row.content_hash:
        return False
    row.version = (row.version or 0) + 1
    row.content_hash = digest
    row.document = {**body, "version": row.version}
    row.updated_by = uc.ctx.principal.name
    row.compiled_at = utcnow()
    uc.publish(TimetablesCompiled((row.controller_id,), row.compiled_at))
    return True


async def put_timetable(ctx: Context, controller_id: str, body: TimetableIn) -> TimetableOut:
    """Replace a controller's timetable; every plan it names must be a stored (so valid)
    plan of the controller. Delivered as soon as it commits."""
    async with change(
        ctx, "traffic_timetable.put", target_type="asset", target_id=controller_id
    ) as uc:
        require_planner(ctx)
        facts = await reading.controller(uc.session, ctx, controller_id)
        ctx.principal.require_commune(facts.commune)
        plans = await _plans(uc.session, controller_id)
        points = [SwitchPoint(tuple(e.days), e.start, e.plan) for e in body.entries]
        errors = check_timetable(points, {p.number for p in plans})
        if errors:
            raise InvalidInput(errors)
        entries = [
            {"days": sorted(set(e.days)), "start": e.start.strftime("%H:%M"), "plan": e.plan}
            for e in body.entries
        ]
        row = await uc.session.get(TrafficTimetable, controller_id)
        if row is None:
            row = TrafficTimetable(
                controller_id=controller_id,
                entries=entries,
                version=0,
                content_hash="",
                document={},
                updated_by=ctx.principal.name,
            )
            uc.session.add(row)
        moved = store_document(uc, row, entries, plans)
        await uc.session.flush()
        uc.audit(
            commune=facts.commune,
            details={"version": row.version, "entries": len(entries), "moved": moved},
        )
    return await get_timetable(ctx, controller_id)


def _out(
    row: TrafficTimetable, delivery: TrafficDelivery | None, zone: str, now: datetime
) -> TimetableOut:
    points = points_of(row.entries)
    tz = ZoneInfo(zone)
    upcoming = next_switch(points, now, tz)
    acked = delivery.acked_version if delivery else None
    return TimetableOut(
        controller_id=row.controller_id,
        entries=row.entries,
        version=row.version,
        delivered_version=delivery.delivered_version if delivery else None,
        acked_version=acked,
        acked_at=delivery.acked_at if delivery else None,
        behind=acked is None or acked < row.version,
        plan_now=plan_at(points, now.astimezone(tz).replace(tzinfo=None)) if points else None,
        next_switch_at=upcoming[0] if upcoming else None,
        next_plan=upcoming[1] if upcoming else None,
    )


async def get_timetable(ctx: Context, controller_id: str) -> TimetableOut:
    """A controller's timetable, the plan it runs now and next, and its delivery."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        await reading.controller(session, ctx, controller_id)
        row = await session.get(TrafficTimetable, controller_id)
        if row is None:
            raise NotFound(f"traffic controller {controller_id!r} has no timetable")
        delivery = await session.get(TrafficDelivery, controller_id)
        return _out(row, delivery, ctx.settings.timezone, utcnow())


async def list_timetables(ctx: Context, *, behind: bool | None = None) -> list[TimetableOut]:
    """The timetables of the controllers in scope (``behind``: only those whose controller
    has not acknowledged the current version, or only those that have)."""
    ctx.principal.require(Permission.ASSET_READ)
    now = utcnow()
    live = asset_queries.id_query(
        types=reading.controller_types(), scope=ctx.principal, only_live=True
    )
    async with ctx.db.read() as session:
        rows = await session.execute(
            select(TrafficTimetable, TrafficDelivery)
            .outerjoin(TrafficDelivery)
            .where(TrafficTimetable.controller_id.in_(live.scalar_subquery()))
            .order_by(TrafficTimetable.controller_id)
        )
        out = [_out(t, d, ctx.settings.timezone, now) for t, d in rows]
    return out if behind is None else [t for t in out if t.behind is behind]
