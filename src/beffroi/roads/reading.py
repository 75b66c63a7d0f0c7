"""Reading road situations within the caller's scope, and their API shape."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.errors import NotFound
from beffroi.core.principal import Principal
from beffroi.roads.models import RoadSituation, RoadSituationCommune
from beffroi.roads.schemas import Impact, SituationOut


def in_scope(principal: Principal) -> Select[RoadSituation]:
    """Situations crossing at least one commune of the caller's scope."""
    stmt = select(RoadSituation)
    if principal.all_communes:
        return stmt
    crosses = exists().where(
        RoadSituationCommune.situation_id == RoadSituation.id,
        principal.scope_clause(RoadSituationCommune.commune_code),
    )
    return stmt.where(crosses)


async def communes_of(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[str]]:
    """The communes each situation crosses, sorted."""
    out: dict[int, list[str]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = await session.execute(
        select(RoadSituationCommune.situation_id, RoadSituationCommune.commune_code)
        .where(RoadSituationCommune.situation_id.in_(list(ids)))
        .order_by(RoadSituationCommune.commune_code)
    )
    for situation_id, code in rows:
        out[situation_id].append(code)
    return out


async def load(
    session: AsyncSession, principal: Principal, situation_id: int, *, lock: bool = False
) -> RoadSituation:
    """One situation in scope (out of scope is not found), locked for a change."""
    stmt = in_scope(principal).where(RoadSituation.id == situation_id)
    row = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"road situation {situation_id} not found")
    return row


def out(row: RoadSituation, communes: list[str], principal: Principal) -> SituationOut:
    """A situation as the API shows it to ``principal``: of the communes it crosses,
    those in their scope (the others are not theirs to learn)."""
    return SituationOut(
        id=row.id,
        type=row.type,
        incident_kind=row.incident_kind,
        title=row.title,
        description=row.description,
        road=row.road,
        geometry=row.geometry,
        detour=row.detour,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        status=row.status,
        impact=Impact(
            road_closed=row.road_closed,
            lanes_closed=row.lanes_closed,
            speed_limit_kmh=row.speed_limit_kmh,
            delay_min=row.delay_min,
        ),
        communes=[c for c in communes if principal.sees(c)],
        version=row.version,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        closed_by=row.closed_by,
        closed_at=row.closed_at,
        close_reason=row.close_reason,
    )
