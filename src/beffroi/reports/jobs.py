"""Scheduled work of the reports area: personal data deleted once its time is up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, select, update

from beffroi.core.context import Context
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.interventions import reporting
from beffroi.reports.models import Report, ReportContact, ReportPhoto

log = structlog.get_logger(__name__)
BATCH = 1000


@dataclass(frozen=True, slots=True)
class Purged:
    """What one run of :func:`purge_personal_data` deleted (reports by id)."""

    report_ids: tuple[int, ...]


async def purge_personal_data(ctx: Context, now: datetime | None = None) -> Purged:
    """Delete the contact and photo of every report whose work finished (resolved, closed
    or cancelled) more than ``BEFFROI_REPORTS_PURGE_AFTER_DAYS`` ago; the report itself
    stays, anonymous. Idempotent: a purged report is marked and never looked at again."""
    now = now or utcnow()
    cutoff = now - timedelta(days=ctx.settings.reports_purge_after_days)
    purged: list[int] = []
    last_id = 0
    while True:
        async with change(ctx, "report.purge", target_type="report") as uc:
            session = uc.session
            # Only reports made before the cutoff can have work that ended before it.
            rows = (
                await session.execute(
                    select(Report.id, Report.intervention_id)
                    .where(
                        Report.purged_at.is_(None),
                        Report.created_at <= cutoff,
                        Report.id > last_id,
                    )
                    .order_by(Report.id)
                    .limit(BATCH)
                )
            ).all()
            ids = [r.intervention_id for r in rows]
            progress = await reporting.public_progress(session, ids)
            due = [
                r.id
                for r in rows
                if (p := progress.get(r.intervention_id)) is not None
                and p.finished_at is not None
                and p.finished_at <= cutoff
            ]
            if due:
                await session.execute(delete(ReportContact).where(ReportContact.report_id.in_(due)))
                await session.execute(delete(ReportPhoto).where(ReportPhoto.report_id.in_(due)))
                await session.execute(
                    update(Report).where(Report.id.in_(due)).values(purged_at=now, has_photo=False)
                )
                # By id only: the entry must not keep what was deleted.
                uc.audit(details={"report_ids": due, "cutoff": cutoff.isoformat()})
        purged += due
        if rows:
            last_id = rows[-1].id
        if len(rows) < BATCH:
            break
    if purged:
        log.info("reports personal data purged", reports=len(purged))
    return Purged(tuple(purged))
