"""Open311 GeoReport v2 under ``/open311/v2/``: the public side of citizen reports.

No login: every route is rate-limited per client (``BEFFROI_REPORTS_RATE_*``) and answers
nothing personal. Errors are Open311's (a list of ``{code, description}``, the
description naming the field), not the problem documents of ``/api/v1``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import select
from starlette.exceptions import HTTPException

from beffroi.core.context import Context
from beffroi.core.dates import Instant
from beffroi.core.errors import (
    BeffroiError,
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TooManyRequests,
)
from beffroi.http.deps import RuntimeDep
from beffroi.http.problems import _field, _message
from beffroi.http.ratelimit import RateLimitDep, client_key
from beffroi.reports import intake, open311_views, open311_xml
from beffroi.reports.catalogue import SERVICES, service
from beffroi.reports.lifecycle import PublicStatus
from beffroi.reports.models import Report
from beffroi.reports.open311_schemas import (
    Discovery,
    Endpoint,
    Open311Error,
    RequestCreated,
    RequestOut,
    ServiceDefinition,
    ServiceOut,
)
from beffroi.reports.reading import by_ticket, public_rows

PREFIX = "/open311/v2"
# When the list of services last changed (it is declared in code: bump it with the list).
CHANGESET = datetime(2026, 12, 7, tzinfo=UTC)
# Open311's defaults for a list: the last 90 days, at most 1000 requests.
DEFAULT_SPAN = timedelta(days=90)
MAX_LISTED = 1000
TICKET = r"^[A-Za-z0-9_-]{1,40}$"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _errors(
    request: Request,
    status: int,
    items: list[tuple[str, str]],
    headers: dict[str, str] | None = None,
) -> Response:
    body = [
        Open311Error(code=status, description=f"{field}: {text}" if field else text).model_dump()
        for field, text in items
    ]
    if open311_xml.wants_xml(request):
        return open311_xml.errors(status, body, headers)
    return JSONResponse(body, status, headers=headers)


class Open311Route(APIRoute):
    """A route answering its errors in Open311's format (400 with each field named)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return _errors(
                    request, 400, [(_field(e.get("loc", ())), _message(e)) for e in exc.errors()]
                )
            except InvalidInput as exc:
                return _errors(request, 400, [(e.field, e.message) for e in exc.errors])
            except TooManyRequests as exc:
                return _errors(
                    request, 429, [("", exc.detail)], {"Retry-After": str(exc.retry_after)}
                )
            except BeffroiError as exc:
                return _errors(request, exc.status, [("", exc.detail)])

        return route


router = APIRouter(prefix=PREFIX, tags=["open311"], route_class=Open311Route)

# Each resource also answers in XML (Open311's required format) at its ``.xml`` twin.
_XML: dict[str, Any] = {
    # Same parameters and code as the JSON resource: the OpenAPI document describes that one.
    "include_in_schema": False,
    "response_class": Response,
    "response_model": None,
    "responses": {200: {"content": {open311_xml.MEDIA: {}}}},
}


async def _limited(
    request: Request, limiter: RateLimitDep, runtime: RuntimeDep, *, posting: bool = False
) -> None:
    settings = runtime.settings
    rate = settings.reports_rate_post if posting else settings.reports_rate_read
    bucket = "open311-post" if posting else "open311-read"
    await limiter.check(bucket, client_key(request), rate)


def _answer(request: Request, root: str, content: BaseModel | list[Any]) -> Any:
    """The answer in the format the client asked for (JSON unless the path ends .xml)."""
    return open311_xml.render(root, content) if open311_xml.wants_xml(request) else content


def _public(runtime: RuntimeDep, client: str | None = None) -> Context:
    return runtime.context(intake.public_principal(client))


@router.get("/discovery.json", response_model=Discovery)
@router.get("/discovery.xml", **_XML)
async def discovery(request: Request, limiter: RateLimitDep, runtime: RuntimeDep) -> Any:
    """Service discovery: where this server's GeoReport v2 API is."""
    await _limited(request, limiter, runtime)
    base = runtime.settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")
    found = Discovery(
        changeset=CHANGESET,
        contact=runtime.settings.reports_agency,
        key_service="api_key: ask the metropolis; reports may also be posted without one",
        endpoints=[
            Endpoint(
                url=f"{base}{PREFIX}",
                changeset=CHANGESET,
                formats=["application/json", open311_xml.MEDIA],
            )
        ],
    )
    return _answer(request, "discovery", found)


@router.get("/services.json", response_model=list[ServiceOut])
@router.get("/services.xml", **_XML)
async def list_services(request: Request, limiter: RateLimitDep, runtime: RuntimeDep) -> Any:
    """The problems one may report."""
    await _limited(request, limiter, runtime)
    return _answer(request, "services", [open311_views.service_out(s) for s in SERVICES])


@router.get("/services/{service_code}.json", response_model=ServiceDefinition)
@router.get("/services/{service_code}.xml", **_XML)
async def service_definition(
    request: Request,
    limiter: RateLimitDep,
    runtime: RuntimeDep,
    service_code: Annotated[str, Path(max_length=40)],
) -> Any:
    """The questions a service asks (its attributes)."""
    await _limited(request, limiter, runtime)
    svc = service(service_code)
    if svc is None:
        raise NotFound(f"no service {service_code[:40]!r}")
    return _answer(request, "service_definition", open311_views.definition_out(svc))


_FORM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            media: {
                "schema": {
                    "type": "object",
                    "required": ["service_code"],
                    "properties": {
                        "service_code": {"type": "string", "maxLength": 40},
                        "lat": {"type": "number", "minimum": -90, "maximum": 90},
                        "long": {"type": "number", "minimum": -180, "maximum": 180},
                        "address_string": {"type": "string", "maxLength": 300},
                        "description": {"type": "string", "maxLength": 4000},
                        "first_name": {"type": "string", "maxLength": 100},
                        "last_name": {"type": "string", "maxLength": 100},
                        "email": {"type": "string", "maxLength": 254},
                        "phone": {"type": "string", "maxLength": 40},
                        "api_key": {"type": "string", "maxLength": 200},
                        **(
                            {"media": {"type": "string", "format": "binary"}}
                            if media == "multipart/form-data"
                            else {}
                        ),
                    },
                }
            }
            for media in FORM_TYPES
        },
    }
}


@router.post("/requests.json", openapi_extra=_FORM_BODY, response_model=list[RequestCreated])
@router.post("/requests.xml", openapi_extra=_FORM_BODY, **_XML)
async def post_request(request: Request, limiter: RateLimitDep, runtime: RuntimeDep) -> Any:
    """Report a problem (a form; a photo as ``media`` in multipart/form-data). The answer's
    service_request_id is the ticket to follow it with."""
    await _limited(request, limiter, runtime, posting=True)
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in FORM_TYPES:
        raise InvalidInput(FieldError("body", f"send one of {list(FORM_TYPES)}"))
    declared = request.headers.get("content-length", "")
    limit = runtime.settings.reports_photo_max_bytes + 100_000
    if declared.isdigit() and int(declared) > limit:
        raise InvalidInput(FieldError("media", f"the request is over {limit} bytes"))
    try:
        form = await request.form(max_files=1, max_fields=60, max_part_size=64 * 1024)
    except HTTPException as exc:  # a malformed multipart body
        raise InvalidInput(FieldError("body", str(exc.detail)[:200])) from exc
    try:
        sub, api_key = await open311_views.submission(form)
    finally:
        await form.close()  # spooled uploads
    client = None
    if api_key is not None:
        client = runtime.settings.reports_api_key_names().get(api_key)
        if client is None:
            raise PermissionDenied("api_key: unknown key")
    received = await intake.receive(_public(runtime, client), sub)
    created = RequestCreated(
        service_request_id=received.ticket, service_notice=open311_views.NOTICE
    )
    return _answer(request, "service_requests", [created])


@router.get("/requests.json", response_model=list[RequestOut])
@router.get("/requests.xml", **_XML)
async def list_requests(
    request: Request,
    limiter: RateLimitDep,
    runtime: RuntimeDep,
    service_request_id: Annotated[str | None, Query(max_length=2000)] = None,
    service_code: Annotated[str | None, Query(max_length=400)] = None,
    start_date: Instant | None = None,
    end_date: Instant | None = None,
    status: Annotated[str | None, Query(max_length=40)] = None,
) -> Any:
    """Service requests: by ids (comma-separated), else those made between start_date and
    end_date (by default the last 90 days), of some services and statuses; newest first,
    at most 1000."""
    await _limited(request, limiter, runtime)
    stmt = select(Report)
    errors: list[FieldError] = []
    if service_request_id:
        stmt = stmt.where(Report.ticket.in_(service_request_id.split(",")[:MAX_LISTED]))
    else:
        end = end_date or datetime.now(UTC)
        start = start_date or end - DEFAULT_SPAN
        if start > end:
            errors.append(FieldError("start_date", "after end_date"))
        stmt = stmt.where(Report.created_at >= start, Report.created_at <= end)
    if service_code:
        codes = service_code.split(",")
        unknown = [c for c in codes if service(c) is None]
        if unknown:
            errors.append(FieldError("service_code", f"unknown service {unknown[0][:40]!r}"))
        stmt = stmt.where(Report.service_code.in_(codes))
    wanted = set(PublicStatus)
    if status:
        try:
            wanted = {PublicStatus(s) for s in status.split(",")}
        except ValueError:
            errors.append(FieldError("status", "open, closed or both (comma-separated)"))
    if errors:
        raise InvalidInput(errors)
    stmt = stmt.order_by(Report.created_at.desc(), Report.id.desc()).limit(MAX_LISTED)
    async with runtime.db.read() as session:
        found = await public_rows(session, stmt)
    agency = runtime.settings.reports_agency
    listed = [open311_views.request_out(p, agency) for p in found if p.status in wanted]
    return _answer(request, "service_requests", listed)


@router.get("/requests/{service_request_id}.json", response_model=list[RequestOut])
@router.get("/requests/{service_request_id}.xml", **_XML)
async def get_request(
    request: Request,
    limiter: RateLimitDep,
    runtime: RuntimeDep,
    service_request_id: Annotated[str, Path(pattern=TICKET)],
) -> Any:
    """One service request, by its id (the ticket)."""
    await _limited(request, limiter, runtime)
    found = await by_ticket(_public(runtime), service_request_id)
    one = open311_views.request_out(found, runtime.settings.reports_agency)
    return _answer(request, "service_requests", [one])
