"""What the citizen reports area asks of the interventions: open work from a report, find
open work a report duplicates, join a report to it, and read its public progress.

The reports area calls these inside its own use case's transaction (one commit for the
report and its work order). Nothing here takes or returns personal data: a report is
named by its id only, in the history and the audit log.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pyproj import Geod
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.config import Settings
from beffroi.core import audit
from beffroi.core.principal import Principal
from beffroi.db.lists import is_postgres
from beffroi.interventions import sla
from beffroi.interventions.events import InterventionChanged
from beffroi.interventions.lifecycle import OPEN, Category, Priority, Source, Status
from beffroi.interventions.models import Intervention, InterventionHistory
from beffroi.interventions.records import NewIntervention, history, insert

GEOD = Geod(ellps="WGS84")
METRES_PER_DEGREE = 111_320.0  # of latitude; a bounding box only, the distance is exact
# Advisory locks serialising the matching of reports, one per category ("bfrr" + rank).
MATCH_LOCK = 0x62667272_00


@dataclass(frozen=True, slots=True)
class ReportedWork:
    """The work a report asks for, checked by the reports area."""

    report_id: int
    category: Category
    priority: Priority
    title: str
    description: str
    commune: str
    lon: float | None
    lat: float | None


@dataclass(frozen=True, slots=True)
class Step:
    """One public step of an intervention: it reached ``status`` at ``at``."""

    status: Status
    at: datetime


@dataclass(frozen=True, slots=True)
class Progress:
    """What the public may know of an intervention: no team, person or internal note."""

    intervention_id: int
    category: Category
    status: Status
    created_at: datetime
    updated_at: datetime
    due_at: datetime
    finished_at: datetime | None  # resolved, closed or cancelled: the latest of them
    steps: tuple[Step, ...]


async def open_for_report(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    work: ReportedWork,
    now: datetime,
) -> tuple[int, InterventionChanged]:
    """Open a work order (source ``report``) for a report; audited as its creation."""
    row, event = await insert(
        session,
        NewIntervention(
            category=work.category,
            priority=work.priority,
            title=work.title[:200],
            description=work.description,
            commune=work.commune,
            asset_id=None,
            lon=work.lon,
            lat=work.lat,
            team_id=None,
            assignee_id=None,
            source=Source.REPORT,
        ),
        sla.SlaConfig.from_settings(settings),
        principal.name,
        principal.kind.value,
        now,
    )
    await audit.record(
        session,
        principal,
        "intervention.create",
        target_type="intervention",
        target_id=str(row.id),
        commune=row.commune_code,
        details={
            "source": Source.REPORT.value,
            "report_id": work.report_id,
            "priority": row.priority,
            "category": row.category,
        },
    )
    return row.id, event


async def serialise_matching(session: AsyncSession, category: Category) -> None:
    """Hold, to the commit, the right to match reports of ``category`` to open work: two
    neighbours reporting the same lamp at once would otherwise each find nothing and open
    two work orders. (SQLite writes one transaction at a time anyway.)"""
    if is_postgres(session):
        rank = list(Category).index(category)
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MATCH_LOCK + rank})


async def nearby_open(
    session: AsyncSession,
    category: Category,
    lon: float,
    lat: float,
    radius_m: float,
    since: datetime,
) -> int | None:
    """The nearest open intervention of ``category`` within ``radius_m`` metres of the
    point, opened at ``since`` or later (``None`` if there is none)."""
    dlat = radius_m / METRES_PER_DEGREE
    dlon = radius_m / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    stmt = (
        select(Intervention.id, Intervention.lon, Intervention.lat)
        .where(
            Intervention.category == category.value,
            Intervention.status.in_([s.value for s in OPEN]),
            Intervention.created_at >= since,
            Intervention.lon.between(lon - dlon, lon + dlon),
            Intervention.lat.between(lat - dlat, lat + dlat),
        )
        .order_by(Intervention.id)
    )
    best: tuple[float, int] | None = None
    for row_id, row_lon, row_lat in await session.execute(stmt):
        _, _, distance = GEOD.inv(lon, lat, row_lon, row_lat)
        if distance <= radius_m and (best is None or distance < best[0]):
            best = (distance, row_id)
    return None if best is None else best[1]


async def join_report(
    session: AsyncSession,
    intervention_id: int,
    report_id: int,
    actor: str,
    actor_kind: str,
    now: datetime,
) -> InterventionChanged:
    """Note in the intervention's history that a report joined it (by the report's id)."""
    row = await session.get(Intervention, intervention_id, with_for_update=True)
    assert row is not None, "joined an intervention that nearby_open found"
    row.updated_at = now
    return history(
        session,
        row,
        now,
        actor,
        actor_kind,
        "report_joined",
        row.status,
        {"report_id": report_id},
    )


async def public_progress(session: AsyncSession, ids: Sequence[int]) -> dict[int, Progress]:
    """The public progress of each intervention named (unknown ids are left out)."""
    if not ids:
        return {}
    wanted = sorted(set(ids))
    rows = (
        await session.execute(select(Intervention).where(Intervention.id.in_(wanted)))
    ).scalars()
    moves = await session.execute(
        select(
            InterventionHistory.intervention_id,
            InterventionHistory.to_status,
            InterventionHistory.from_status,
            InterventionHistory.at,
        )
        .where(InterventionHistory.intervention_id.in_(wanted))
        .order_by(InterventionHistory.intervention_id, InterventionHistory.id)
    )
    steps: dict[int, list[Step]] = {}
    for intervention_id, to_status, from_status, at in moves:
        if to_status is None or to_status == from_status:
            continue  # not a change of status (a note, a link, a report joining)
        steps.setdefault(intervention_id, []).append(Step(Status(to_status), at))
    out: dict[int, Progress] = {}
    for row in rows:
        ends = [t for t in (row.resolved_at, row.closed_at, row.cancelled_at) if t is not None]
        status = Status(row.status)
        out[row.id] = Progress(
            intervention_id=row.id,
            category=Category(row.category),
            status=status,
            created_at=row.created_at,
            updated_at=row.updated_at,
            due_at=row.due_at,
            finished_at=max(ends) if ends and status not in OPEN else None,
            steps=tuple(steps.get(row.id, ())),
        )
    return out
