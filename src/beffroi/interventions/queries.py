"""What other areas read of the interventions area: plain rows, never the tables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.principal import Principal
from beffroi.interventions.lifecycle import Status
from beffroi.interventions.models import Intervention, Team
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


@dataclass(frozen=True, slots=True)
class Where:
    """Where an intervention is, for an area that sends someone there: its point, else
    its main asset's; ``lon``/``lat`` are None when it names neither."""

    id: int
    commune_code: str
    category: str
    asset_id: str | None
    lon: float | None
    lat: float | None


async def where(session: AsyncSession, intervention_id: int, principal: Principal) -> Where | None:
    """The intervention's place, if it exists for ``principal`` (scope and equipment)."""
    t = Intervention
    stmt = select(t.id, t.commune_code, t.category, t.asset_id, t.lon, t.lat).where(
        t.id == intervention_id, principal.scope_clause(t.commune_code), shown_clause(principal)
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else Where(*row)


@dataclass(frozen=True, slots=True)
class TeamRow:
    """A field team: its name and communes."""

    id: int
    name: str
    communes: tuple[str, ...]


async def teams(session: AsyncSession, ids: Iterable[int]) -> dict[int, TeamRow]:
    """The teams among ``ids`` that exist."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(Team.id, Team.name, Team.communes).where(Team.id.in_(wanted))
    )
    return {r.id: TeamRow(r.id, r.name, tuple(r.communes)) for r in rows}


async def busy_teams(session: AsyncSession, ids: Iterable[int]) -> set[int]:
    """The teams among ``ids`` at work now: an intervention of theirs is in progress
    (assigned but not started leaves a team available: it may be sent elsewhere first)."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    stmt = select(Intervention.team_id).where(
        Intervention.team_id.in_(wanted), Intervention.status == Status.IN_PROGRESS.value
    )
    return {row.team_id for row in await session.execute(stmt.distinct())}
