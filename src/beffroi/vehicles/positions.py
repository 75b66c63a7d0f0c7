"""Use cases that read where the vehicles are and were, in the caller's communes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as asset_queries
from beffroi.core.context import Context
from beffroi.core.errors import FieldError, InvalidInput, NotFound
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow
from beffroi.db import Derived
from beffroi.vehicles.coverage import Fix
from beffroi.vehicles.lifecycle import VEHICLE_TYPE, kind_of, team_of
from beffroi.vehicles.models import LatestPosition, TrackPoint
from beffroi.vehicles.schemas import (
    TrackGeometry,
    TrackProperties,
    VehicleList,
    VehiclePosition,
    VehicleTrack,
)

# A track asked for covers at most this long, and carries at most this many points (a
# vehicle reporting every 5 s for a day: 17,280).
TRACK_SPAN = timedelta(days=7)
TRACK_MAX = 20_000


async def latest(
    session: AsyncSession, principal: Principal, fresh_s: int, now: datetime
) -> list[VehiclePosition]:
    """The latest position of each live vehicle of the caller's communes."""
    ids = asset_queries.id_query(types=[VEHICLE_TYPE], scope=principal, only_live=True)
    rows = list(
        (
            await session.execute(
                select(LatestPosition)
                .where(LatestPosition.asset_id.in_(ids))
                .order_by(LatestPosition.asset_id)
            )
        ).scalars()
    )
    found = [r.asset_id for r in rows]
    facts = await asset_queries.facts(session, found)
    attributes = await asset_queries.attributes_of(session, found)
    fresh_after = now - timedelta(seconds=fresh_s)
    return [
        VehiclePosition.model_validate(
            Derived(
                row,
                name=facts[row.asset_id].name,
                commune=facts[row.asset_id].commune,
                kind=kind_of(attributes.get(row.asset_id, {})).value,
                team_id=team_of(attributes.get(row.asset_id, {})),
                fresh=row.ts >= fresh_after,
            )
        )
        for row in rows
        if row.asset_id in facts
    ]


async def live(ctx: Context) -> VehicleList:
    """Where the vehicles of the caller's communes last reported being."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        items = await latest(session, ctx.principal, ctx.settings.vehicles_fresh_s, utcnow())
    return VehicleList(items=items)


async def load_vehicle(session: AsyncSession, principal: Principal, asset_id: str) -> str:
    """The vehicle's commune; a vehicle outside the scope, another asset or none: 404."""
    facts = (await asset_queries.facts(session, [asset_id])).get(asset_id)
    if facts is None or facts.type != VEHICLE_TYPE or not principal.sees(facts.commune):
        raise NotFound(f"vehicle {asset_id} not found")
    return facts.commune


async def fixes(
    session: AsyncSession,
    asset_ids: Sequence[str],
    since: datetime,
    until: datetime,
    limit: int = TRACK_MAX,
) -> tuple[dict[str, list[Fix]], bool]:
    """The positions of ``asset_ids`` from ``since`` to ``until`` (oldest first, each
    vehicle's), and whether more were there than ``limit`` (the newest are kept)."""
    if not asset_ids:
        return {}, False
    stmt = (
        select(TrackPoint.asset_id, TrackPoint.ts, TrackPoint.lon, TrackPoint.lat)
        .where(
            TrackPoint.asset_id.in_(sorted(set(asset_ids))),
            TrackPoint.ts >= since,
            TrackPoint.ts < until,
        )
        .order_by(TrackPoint.ts.desc())
        .limit(limit + 1)
    )
    rows = list(await session.execute(stmt))
    out: dict[str, list[Fix]] = {}
    for row in reversed(rows[:limit]):
        out.setdefault(row.asset_id, []).append(Fix(row.ts, row.lon, row.lat))
    return out, len(rows) > limit


def period(
    since: datetime | None, until: datetime | None, span: timedelta
) -> tuple[datetime, datetime]:
    """The period asked for: up to now, an hour long, when left out; never longer than
    ``span``, nor ending before it starts."""
    end = until or utcnow()
    start = since or end - timedelta(hours=1)
    if start >= end:
        raise InvalidInput(FieldError("since", "must be before until"))
    if end - start > span:
        raise InvalidInput(FieldError("since", f"the period may not exceed {span.days} days"))
    return start, end


async def track(
    ctx: Context, asset_id: str, since: datetime | None, until: datetime | None
) -> VehicleTrack:
    """One vehicle's track over a period (an hour up to now by default), a GeoJSON
    Feature with a LineString."""
    ctx.principal.require(Permission.ASSET_READ)
    start, end = period(since, until, TRACK_SPAN)
    async with ctx.db.read() as session:
        await load_vehicle(session, ctx.principal, asset_id)
        found, truncated = await fixes(session, [asset_id], start, end)
    points = found.get(asset_id, [])
    coordinates = [[f.lon, f.lat] for f in points]
    if len(coordinates) == 1:
        coordinates.append(coordinates[0])
    return VehicleTrack(
        geometry=TrackGeometry(coordinates=coordinates) if coordinates else None,
        properties=TrackProperties(
            asset_id=asset_id,
            since=start,
            until=end,
            points=len(points),
            times=[f.ts for f in points],
            truncated=truncated,
        ),
    )
