"""What other areas (open data) read of the road situations: plain rows, never the
tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.roads.models import RoadSituation, RoadSituationCommune
from beffroi.roads.situation import OPEN


@dataclass(frozen=True, slots=True)
class Published:
    """An open situation as the public may know it: no author, no free text."""

    id: int
    version: int
    type: str
    incident_kind: str | None
    status: str
    road: str
    geometry: dict[str, Any]
    detour: dict[str, Any] | None
    starts_at: datetime
    ends_at: datetime | None
    road_closed: bool
    lanes_closed: int | None
    speed_limit_kmh: int | None
    delay_min: int | None
    # The one commune it lies in; None when it crosses several (see ``communes``).
    commune_code: str | None
    communes: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


async def open_situations(session: AsyncSession) -> list[Published]:
    """Planned and active situations, by start then id."""
    rows = list(
        (
            await session.execute(
                select(RoadSituation)
                .where(RoadSituation.status.in_([s.value for s in OPEN]))
                .order_by(RoadSituation.starts_at, RoadSituation.id)
            )
        ).scalars()
    )
    communes: dict[int, list[str]] = {r.id: [] for r in rows}
    if rows:
        links = await session.execute(
            select(RoadSituationCommune.situation_id, RoadSituationCommune.commune_code)
            .where(RoadSituationCommune.situation_id.in_(list(communes)))
            .order_by(RoadSituationCommune.commune_code)
        )
        for situation_id, code in links:
            communes[situation_id].append(code)
    return [
        Published(
            r.id,
            r.version,
            r.type,
            r.incident_kind,
            r.status,
            r.road,
            r.geometry,
            r.detour,
            r.starts_at,
            r.ends_at,
            r.road_closed,
            r.lanes_closed,
            r.speed_limit_kmh,
            r.delay_min,
            r.commune_code,
            tuple(communes[r.id]),
            r.created_at,
            r.updated_at,
        )
        for r in rows
    ]
