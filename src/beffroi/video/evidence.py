"""Extractions and transmissions: a period of footage exported by the VMS for a
requisition, and its handing over to the police or the justice (requester, reference,
recipient, medium). Both registered; both refused without a habilitation covering the
camera (a manager may record a transmission of an extraction in scope)."""

from __future__ import annotations

from datetime import timedelta

from beffroi.core.context import Context
from beffroi.core.errors import FieldError, InvalidInput, NotFound
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.video import coverage, register
from beffroi.video.acts import act
from beffroi.video.lifecycle import EntryKind
from beffroi.video.models import Extraction
from beffroi.video.register import Draft
from beffroi.video.schemas import ExtractionCreate, ExtractionOut, TransmissionCreate
from beffroi.video.vms import Period, vms_of

MAX_EXTRACTION = timedelta(days=7)


async def extract(ctx: Context, body: ExtractionCreate) -> ExtractionOut:
    """Have the VMS export a period of a camera's footage; registered with its reason."""
    async with act(
        ctx,
        "video.extract",
        EntryKind.EXTRACTION,
        [body.camera_id],
        reason=body.reason,
        target_type="asset",
        target_id=body.camera_id,
    ) as uc:
        ctx.principal.require(Permission.VIDEO_WATCH)
        if body.end <= body.start:
            raise InvalidInput(FieldError("end", "must be after start"))
        if body.end - body.start > MAX_EXTRACTION:
            raise InvalidInput(FieldError("end", "an extraction spans at most 7 days"))
        found = await coverage.cameras(uc.session, ctx.principal, [body.camera_id], "camera_id")
        now = utcnow()
        await coverage.require_covered(uc.session, ctx.principal, found, now)
        camera = found[body.camera_id]
        export_id = await vms_of(ctx).extract(camera.id, Period(body.start, body.end))
        row = Extraction(
            export_id=export_id,
            camera_id=camera.id,
            commune_code=camera.commune,
            period_start=body.start,
            period_end=body.end,
            reason=body.reason,
            created_by=ctx.principal.name,
            created_at=now,
        )
        uc.session.add(row)
        await uc.session.flush()
        period = {"start": body.start.isoformat(), "end": body.end.isoformat()}
        await register.append(
            uc.session,
            ctx.principal,
            [
                Draft(
                    EntryKind.EXTRACTION,
                    camera.id,
                    camera.commune,
                    reason=body.reason,
                    details={"export_id": export_id, "extraction_id": row.id, **period},
                )
            ],
        )
        uc.audit(commune=camera.commune, reason=body.reason, details={"export_id": export_id})
    return ExtractionOut.model_validate(row)


async def transmit(ctx: Context, body: TransmissionCreate) -> ExtractionOut:
    """Record the handing over of an extraction on a requisition; registered."""
    async with act(
        ctx,
        "video.transmit",
        EntryKind.TRANSMISSION,
        [],
        reason=body.reason,
        target_type="video_extraction",
        target_id=body.extraction_id,
    ) as uc:
        row = await uc.session.get(Extraction, body.extraction_id)
        if row is None or not ctx.principal.sees(row.commune_code):
            raise NotFound("extraction not found")
        if not ctx.principal.can(Permission.VIDEO_MANAGE):
            ctx.principal.require(Permission.VIDEO_WATCH)
            found = await coverage.cameras(uc.session, ctx.principal, [row.camera_id])
            await coverage.require_covered(uc.session, ctx.principal, found, utcnow())
        requisition = {
            "requester": body.requester,
            "reference": body.reference,
            "recipient": body.recipient,
            "medium": body.medium,
        }
        await register.append(
            uc.session,
            ctx.principal,
            [
                Draft(
                    EntryKind.TRANSMISSION,
                    row.camera_id,
                    row.commune_code,
                    reason=body.reason or f"réquisition {body.reference}",
                    details={
                        "export_id": row.export_id,
                        "extraction_id": row.id,
                        "start": row.period_start.isoformat(),
                        "end": row.period_end.isoformat(),
                        **requisition,
                    },
                )
            ],
        )
        uc.audit(commune=row.commune_code, reason=body.reason, details=requisition)
    return ExtractionOut.model_validate(row)
