"""The staff side of citizen reports under ``/api/v1/reports``: the citizen line records
a phone call, staff list and read the reports of their communes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from beffroi.http.deps import Ctx, RowId
from beffroi.http.params import PageLimit, comma_list
from beffroi.reports import intake, notes, reading
from beffroi.reports.checks import Submission
from beffroi.reports.lifecycle import Channel
from beffroi.reports.schemas import (
    PublicNoteCreate,
    PublicNoteOut,
    ReportDetail,
    ReportPage,
    ReportRecord,
)

router = APIRouter(tags=["reports"])


@router.post("/reports", status_code=status.HTTP_201_CREATED)
async def record_call(ctx: Ctx, body: ReportRecord) -> ReportDetail:
    """Record a phone call to the citizen line as a report (``report:record``)."""
    caller = body.caller
    sub = Submission(
        channel=Channel.PHONE,
        service_code=body.service_code,
        lon=body.location.coordinates[0] if body.location else None,
        lat=body.location.coordinates[1] if body.location else None,
        commune=body.commune,
        address_string=body.address_string,
        description=body.description,
        attributes=body.attributes,
        first_name=caller.first_name if caller else "",
        last_name=caller.last_name if caller else "",
        email=caller.email if caller else "",
        phone=caller.phone if caller else "",
    )
    received = await intake.receive(ctx, sub, long_name="location")
    return await reading.get_report(ctx, received.report_id)


@router.get("/reports")
async def list_reports(
    ctx: Ctx,
    commune: Annotated[
        str | None, Query(description="Commune codes or names, comma-separated")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: PageLimit = 100,
) -> ReportPage:
    """Reports of the caller's communes, newest first (``report:read``)."""
    return await reading.list_reports(ctx, comma_list(commune), cursor, limit)


@router.get("/reports/{report_id}")
async def get_report(ctx: Ctx, report_id: RowId) -> ReportDetail:
    """A report, with its caller's contact while it is kept (``report:read``)."""
    return await reading.get_report(ctx, report_id)


@router.get(
    "/reports/{report_id}/photo",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}},
)
async def get_photo(ctx: Ctx, report_id: RowId) -> Response:
    """The report's photo, without its metadata (``report:read``)."""
    content_type, data = await reading.get_photo(ctx, report_id)
    return Response(data, media_type=content_type)


@router.post("/reports/{report_id}/notes", status_code=status.HTTP_201_CREATED)
async def add_note(ctx: Ctx, report_id: RowId, body: PublicNoteCreate) -> PublicNoteOut:
    """A public note on the report's work: every ticket of that work reads it."""
    return await notes.add_note(ctx, report_id, body)
