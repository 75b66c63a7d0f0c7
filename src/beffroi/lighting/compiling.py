"""Compilation of the cabinets' schedules, and reading them.

Set-based for a whole city (about 1,500 cabinets for Dijon): one reading of the library,
one of the cabinets, one of the schedules in place, then one insert and one update
(``executemany``) of those whose content changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as asset_queries
from beffroi.core.context import Context
from beffroi.core.errors import NotFound
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow
from beffroi.core.usecase import UseCase, change
from beffroi.db.lists import among, is_postgres, parts
from beffroi.lighting import override_reach
from beffroi.lighting.events import DeliveriesDue, SchedulesCompiled
from beffroi.lighting.models import LightingDelivery, LightingSchedule
from beffroi.lighting.override import Applying
from beffroi.lighting.override_reach import Reach
from beffroi.lighting.reading import Library, cabinet_types, read_library
from beffroi.lighting.resolution import Placed
from beffroi.lighting.schedule import content, content_hash, override_json
from beffroi.lighting.schemas import ScheduleOut, ScheduleSummary

# The advisory lock serialising compilations on PostgreSQL ("bflc": Beffroi lighting compile).
COMPILE_LOCK = 0x62666C63


async def _cabinets(
    session: AsyncSession, scope: Principal | None, cabinet_ids: list[str] | None
) -> list[asset_queries.Facts]:
    """The live cabinets in ``scope`` (everywhere: None), among ``cabinet_ids`` when given."""
    query = asset_queries.id_query(types=cabinet_types(), scope=scope, only_live=True)
    ids = list((await session.execute(query)).scalars())
    if cabinet_ids is not None:
        ids = sorted(set(ids) & set(cabinet_ids))
    facts = await asset_queries.facts(session, ids)
    return [facts[i] for i in sorted(facts)]


def _overrides(
    cabinet: asset_queries.Facts, overrides: Sequence[tuple[Applying, Reach]]
) -> list[dict[str, Any]]:
    """The overrides still to apply on a cabinet, oldest first (the last listed wins)."""
    out = []
    for applying, reach in overrides:
        whole, lights = reach.on_cabinet(cabinet.id, cabinet.commune)
        if whole or lights:
            out.append(
                override_json(
                    applying.id,
                    applying.starts_at,
                    applying.until,
                    applying.level_pct,
                    None if whole else lights,
                )
            )
    return out


def _document(
    cabinet: asset_queries.Facts,
    library: Library,
    timezone: str,
    year: int,
    overrides: Sequence[tuple[Applying, Reach]] = (),
) -> dict[str, object]:
    found = library.resolver.for_(Placed(cabinet.id, cabinet.commune, cabinet.lon, cabinet.lat))
    calendar = library.calendar_specs.get(found.calendar_id) if found else None
    return content(
        cabinet_id=cabinet.id,
        lat=cabinet.lat,
        lon=cabinet.lon,
        timezone=timezone,
        calendar_id=found.calendar_id if found and calendar else None,
        calendar=calendar,
        programs=library.program_specs,
        year=year,
        overrides=_overrides(cabinet, overrides),
    )


async def _in_place(session: AsyncSession, ids: list[str]) -> dict[str, tuple[str, int]]:
    out: dict[str, tuple[str, int]] = {}
    for part in parts(session, ids):
        rows = await session.execute(
            select(
                LightingSchedule.cabinet_id, LightingSchedule.content_hash, LightingSchedule.version
            ).where(among(session, LightingSchedule.cabinet_id, part))
        )
        out.update({r.cabinet_id: (r.content_hash, r.version) for r in rows})
    return out


async def compile_schedules(
    ctx: Context, cabinet_ids: list[str] | None = None, *, now: datetime | None = None
) -> list[str]:
    """Recompile the schedules of the cabinets in scope (those among ``cabinet_ids`` when
    given) and return those whose version moved, by id: new ones, and those whose content
    changed. A schedule whose content did not change keeps its version."""
    now = now or utcnow()
    async with change(ctx, "lighting_schedule.compile", target_type="lighting_schedule") as uc:
        ctx.principal.require(Permission.LIGHTING_PROGRAM)
        changed, count = await compile_in(uc, cabinet_ids, now)
        if changed:
            uc.audit(details={"cabinets": count, "changed": len(changed)})
    return changed


async def compile_in(
    uc: UseCase, cabinet_ids: list[str] | None, now: datetime, *, everywhere: bool = False
) -> tuple[list[str], int]:
    """The compilation, inside another use case's transaction (an override's: the
    schedules move with it or not at all). Returns (cabinets whose version moved, cabinets
    compiled) and publishes the move; auditing is the caller's.

    ``everywhere``: whatever the caller's scope, for a change already allowed whose
    consequences reach further (a Talant light fed by a cabinet of the next commune)."""
    ctx, session = uc.ctx, uc.session
    if is_postgres(session):
        # One compilation at a time: two (an override approved while another is made)
        # would each read the other's schedules before its commit, and the last to
        # commit would write a version without the other's override. The lock is held
        # to the commit, so the next reads what this one wrote. (SQLite writes one
        # transaction at a time anyway.)
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": COMPILE_LOCK})
    library = await read_library(session)
    cabinets = await _cabinets(session, None if everywhere else ctx.principal, cabinet_ids)
    current = await _in_place(session, [c.id for c in cabinets])
    rows = await override_reach.applying(session, after=now)
    reaches = await override_reach.reach_of(session, rows)
    overrides = [(override_reach.applying_at(r), reaches[r.id]) for r in rows]
    timezone = ctx.settings.timezone
    year = now.astimezone(ctx.settings.zone).year
    new_rows: list[dict[str, object]] = []
    moved: list[dict[str, object]] = []
    for cabinet in cabinets:
        body = _document(cabinet, library, timezone, year, overrides)
        digest = content_hash(body)
        before = current.get(cabinet.id)
        if before is not None and before[0] == digest:
            continue
        version = 1 if before is None else before[1] + 1
        row = {
            "cabinet_id": cabinet.id,
            "version": version,
            "content_hash": digest,
            "document": {"version": version, **body},
            "compiled_at": now,
        }
        (new_rows if before is None else moved).append(row)
    if new_rows:
        await session.execute(insert(LightingSchedule), new_rows)
    if moved:
        # Core, not ORM: one executemany; the keys besides "key" are the SET columns.
        table = cast("Table", LightingSchedule.__table__)
        await session.execute(
            update(table).where(table.c.cabinet_id == bindparam("key")),
            [
                {"key": r["cabinet_id"], **{k: v for k, v in r.items() if k != "cabinet_id"}}
                for r in moved
            ],
        )
    changed = sorted(str(r["cabinet_id"]) for r in [*new_rows, *moved])
    if changed:
        # The small DeliveriesDue too: a whole city's ids are too large to relay
        # between processes, and the gateway delivering them may run in another.
        uc.publish(SchedulesCompiled(tuple(changed), now), DeliveriesDue(len(changed), now))
    return changed, len(cabinets)


def _with_delivery(row: Any) -> dict[str, Any]:
    """A schedule row (with its delivery's columns) as a summary's fields."""
    fields = dict(row._mapping)
    acked = fields.get("acked_version")
    fields["behind"] = acked is None or acked < fields["version"]
    return fields


_DELIVERY_COLUMNS = (
    LightingDelivery.delivered_version,
    LightingDelivery.delivered_at,
    LightingDelivery.acked_version,
    LightingDelivery.acked_at,
)


async def list_schedules(ctx: Context, *, behind: bool | None = None) -> list[ScheduleSummary]:
    """The compiled schedules of the cabinets in the caller's scope, by cabinet, with the
    version each controller acknowledged; ``behind``: only those whose controller runs an
    older version (True), or only those up to date (False)."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        scope = asset_queries.id_query(scope=ctx.principal)
        query = (
            select(
                LightingSchedule.cabinet_id,
                LightingSchedule.version,
                LightingSchedule.content_hash,
                LightingSchedule.compiled_at,
                *_DELIVERY_COLUMNS,
            )
            .outerjoin(LightingDelivery)
            .where(LightingSchedule.cabinet_id.in_(scope.scalar_subquery()))
            .order_by(LightingSchedule.cabinet_id)
        )
        late = LightingDelivery.acked_version.is_(None) | (
            LightingDelivery.acked_version < LightingSchedule.version
        )
        if behind is not None:
            query = query.where(late if behind else ~late)
        rows = await session.execute(query)
        return [ScheduleSummary.model_validate(_with_delivery(r)) for r in rows]


async def get_schedule(ctx: Context, cabinet_id: str) -> ScheduleOut:
    """The compiled schedule of one cabinet in the caller's scope."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        cabinet = (await asset_queries.facts(session, [cabinet_id])).get(cabinet_id)
        row = (
            await session.execute(
                select(
                    LightingSchedule.cabinet_id,
                    LightingSchedule.version,
                    LightingSchedule.content_hash,
                    LightingSchedule.compiled_at,
                    LightingSchedule.document,
                    *_DELIVERY_COLUMNS,
                )
                .outerjoin(LightingDelivery)
                .where(LightingSchedule.cabinet_id == cabinet_id)
            )
        ).first()
        if cabinet is None or row is None or not ctx.principal.sees(cabinet.commune):
            raise NotFound(f"no schedule for {cabinet_id!r}")
        return ScheduleOut.model_validate(_with_delivery(row))
