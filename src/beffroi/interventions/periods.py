"""Work orders opened over a period in some communes (a crisis plan's report)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from beffroi.core.context import Context
from beffroi.core.principal import Permission
from beffroi.interventions.models import Intervention

MAX_LISTED = 1000


@dataclass(frozen=True, slots=True)
class Opened:
    """A work order, briefly."""

    id: int
    title: str
    commune: str
    status: str
    created_at: datetime
    resolved_at: datetime | None


async def opened_between(
    ctx: Context, communes: list[str] | None, since: datetime, until: datetime
) -> list[Opened]:
    """Work orders of the caller's scope opened in ``[since, until)``, in ``communes``
    (``None``: all), oldest first; at most :data:`MAX_LISTED`."""
    ctx.principal.require(Permission.INTERVENTION_READ)
    stmt = (
        select(Intervention)
        .where(
            Intervention.created_at >= since,
            Intervention.created_at < until,
            ctx.principal.scope_clause(Intervention.commune_code),
        )
        .order_by(Intervention.id)
        .limit(MAX_LISTED)
    )
    if communes is not None:
        stmt = stmt.where(Intervention.commune_code.in_(communes))
    async with ctx.db.read() as session:
        rows = (await session.execute(stmt)).scalars()
        return [
            Opened(r.id, r.title, r.commune_code, r.status, r.created_at, r.resolved_at)
            for r in rows
        ]
