"""Public notes: what the hub tells every citizen following a piece of work."""

from __future__ import annotations

from beffroi.core.context import Context
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.reports.models import ReportNote
from beffroi.reports.reading import load
from beffroi.reports.schemas import PublicNoteCreate, PublicNoteOut


async def add_note(ctx: Context, report_id: int, body: PublicNoteCreate) -> PublicNoteOut:
    """Write a public note on the work a report follows (every ticket of that work reads
    it). For the citizen line's staff, in their communes."""
    async with change(ctx, "report.note", target_type="report", target_id=report_id) as uc:
        ctx.principal.require(Permission.REPORT_RECORD)
        row = await load(uc.session, ctx, report_id)
        ctx.principal.require_commune(row.commune_code)
        note = ReportNote(
            intervention_id=row.intervention_id,
            text=body.text,
            at=utcnow(),
            author=ctx.principal.name,
        )
        uc.session.add(note)
        await uc.session.flush()
        # The note is public by design, so the audit entry may hold it.
        uc.audit(
            commune=row.commune_code,
            details={"intervention_id": row.intervention_id, "text": body.text},
        )
    return PublicNoteOut.model_validate(note)
