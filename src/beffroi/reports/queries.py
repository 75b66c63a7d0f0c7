"""What other areas may read of the reports: anonymised rows for the open data portal.

No personal field is ever selected (the contact and photo tables are not read), times are
cut to the day and positions snapped to a coarse grid, so a row cannot lead back to the
person who reported.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.interventions import reporting
from beffroi.interventions.lifecycle import Status
from beffroi.reports.lifecycle import PublicStatus, public_of
from beffroi.reports.models import Report

GRID_DEGREES = 0.005  # about 550 m north-south, 380 m east-west at Dijon
BATCH = 1000


@dataclass(frozen=True, slots=True)
class AnonymisedReport:
    """One report as the public may have it in bulk."""

    service_code: str
    category: str
    commune: str
    day: date
    lon: float | None  # the centre of the grid cell the report fell in
    lat: float | None
    status: PublicStatus
    days_to_resolve: float | None  # None while open, or closed without work


def coarse(value: float | None) -> float | None:
    """A coordinate snapped to the centre of its grid cell."""
    if value is None:
        return None
    return round((math.floor(value / GRID_DEGREES) + 0.5) * GRID_DEGREES, 4)


def _days(start: datetime, end: datetime | None, status: Status) -> float | None:
    if end is None or status is Status.CANCELLED:
        return None
    return round((end - start).total_seconds() / 86400, 1)


async def anonymised(
    session: AsyncSession,
    *,
    since: datetime | None = None,
    timezone: str = "Europe/Paris",
) -> AsyncIterator[AnonymisedReport]:
    """Every report (made at ``since`` or later), oldest first, anonymised, read in
    batches in the caller's session."""
    zone = ZoneInfo(timezone)
    last_id = 0
    while True:
        stmt = (
            select(
                Report.id,
                Report.service_code,
                Report.category,
                Report.commune_code,
                Report.created_at,
                Report.lon,
                Report.lat,
                Report.intervention_id,
            )
            .where(Report.id > last_id)
            .order_by(Report.id)
            .limit(BATCH)
        )
        if since is not None:
            stmt = stmt.where(Report.created_at >= since)
        rows = (await session.execute(stmt)).all()
        progress = await reporting.public_progress(session, [r.intervention_id for r in rows])
        for r in rows:
            p = progress.get(r.intervention_id)
            status = p.status if p is not None else Status.NEW
            yield AnonymisedReport(
                service_code=r.service_code,
                category=r.category,
                commune=r.commune_code,
                day=r.created_at.astimezone(zone).date(),
                lon=coarse(r.lon),
                lat=coarse(r.lat),
                status=public_of(status)[0],
                days_to_resolve=_days(r.created_at, p.finished_at if p else None, status),
            )
        if len(rows) < BATCH:
            return
        last_id = rows[-1].id


async def communes_of(session: AsyncSession, ids: list[int]) -> dict[int, str]:
    """The commune of each report among ``ids`` that exists (nothing of what it says or of
    who called: for another area that names reports and checks its caller's scope)."""
    if not ids:
        return {}
    stmt = select(Report.id, Report.commune_code).where(Report.id.in_(sorted(set(ids))))
    return {row.id: row.commune_code for row in await session.execute(stmt)}
