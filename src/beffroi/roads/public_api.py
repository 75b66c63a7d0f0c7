"""The public DATEX II endpoint (no login): the road situations for navigation services.

Public for the reason open data is: it is meant for every driver's navigation app, and
carries no author nor free text. Protected as the open data API is: rate-limited per
client address (the open data limit, ``BEFFROI_OPENDATA_RATE_LIMIT``), with an ETag
that changes only when a situation does, a 304 to a client whose tag is current, and a
short ``Cache-Control`` so that a proxy in front absorbs polling.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response

from beffroi.core.context import Runtime
from beffroi.http.ratelimit import RateLimiter, client_key, get_rate_limiter
from beffroi.roads import export

PREFIX = "/api/datex2/v3"
CACHE_CONTROL = "public, max-age=60"
XML = "application/xml"


async def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def limited(
    request: Request,
    runtime: Annotated[Runtime, Depends(_runtime)],
    limiter: Annotated[RateLimiter, Depends(get_rate_limiter)],
) -> None:
    """Count the request against its address's limit."""
    await limiter.check("datex2", client_key(request), runtime.settings.opendata_rate_limit)


router = APIRouter(prefix=PREFIX, tags=["DATEX II"], dependencies=[Depends(limited)])


@router.get(
    "/situations",
    responses={
        200: {"content": {XML: {}}},
        304: {"description": "Not modified (If-None-Match)"},
    },
)
async def situations(
    runtime: Annotated[Runtime, Depends(_runtime)],
    planned: Annotated[bool, Query(description="Planned situations (works ahead) too")] = False,
    if_none_match: Annotated[str | None, Header(max_length=500)] = None,
) -> Response:
    """The active road situations (works, closures, events, incidents) as a DATEX II v3
    SituationPublication."""
    rows = await export.published(runtime, planned=planned)
    etag = export.etag_of(rows, planned)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if if_none_match is not None and etag in if_none_match:
        return Response(status_code=304, headers=headers)
    return Response(export.document(rows), media_type=XML, headers=headers)
