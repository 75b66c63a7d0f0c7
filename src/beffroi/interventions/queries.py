"""What other areas read of the interventions area: plain rows, never the tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.principal import Principal
from beffroi.interventions.models import Intervention
from beffroi.interventions.records import shown_clause


@dataclass(frozen=True, slots=True)
class Opened:
    """When an intervention of a category was opened in a commune, and when resolved
    (nothing of what it says, of who did it, or where exactly)."""

    commune_code: str
    category: str
    created_at: datetime
    resolved_at: datetime | None


async def opened_since(
    session: AsyncSession, since: datetime, *, categories: tuple[str, ...]
) -> list[Opened]:
    """The interventions of ``categories`` opened since ``since``, oldest first."""
    t = Intervention
    rows = await session.execute(
        select(t.commune_code, t.category, t.created_at, t.resolved_at)
        .where(t.created_at >= since, t.category.in_(list(categories)))
        .order_by(t.created_at, t.id)
    )
    return [Opened(*row) for row in rows]


async def communes_of(
    session: AsyncSession, ids: list[int], principal: Principal
) -> dict[int, str]:
    """The commune of each intervention among ``ids`` that exists for ``principal`` (a
    camera's work order does not, for whoever does not see cameras): for another area that
    names work orders and checks its caller's scope."""
    if not ids:
        return {}
    t = Intervention
    stmt = select(t.id, t.commune_code).where(t.id.in_(sorted(set(ids))), shown_clause(principal))
    return {row.id: row.commune_code for row in await session.execute(stmt)}
