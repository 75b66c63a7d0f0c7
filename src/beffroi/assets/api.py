"""Routes of the equipment registry."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from beffroi.assets import importing, reading, service
from beffroi.assets.features import list_features
from beffroi.assets.filters import AssetFilter, BBox
from beffroi.assets.io import detect_format, parse_csv, parse_geojson, stream
from beffroi.assets.lifecycle import AssetStatus
from beffroi.assets.schemas import (
    AssetCreate,
    AssetOut,
    AssetPage,
    AssetUpdate,
    Decommission,
    ImportReport,
)
from beffroi.catalogue import CATALOGUE
from beffroi.catalogue.visibility import hidden_types
from beffroi.core.errors import FieldError, InvalidInput
from beffroi.http.cache import Cached, ResponseCache
from beffroi.http.deps import Ctx
from beffroi.http.params import choice_list, comma_list, enum_list

router = APIRouter(prefix="/assets", tags=["assets"])

GEOJSON = "application/geo+json"
MAX_PAGE = 1000
MAX_GEOJSON_PAGE = 50_000
MAX_IMPORT_BYTES = 200 * 1024 * 1024


# The asset filters other areas take too (telemetry's latest values).
AssetTypes = Annotated[list[str], choice_list("type", CATALOGUE.keys_sorted, "Equipment types")]
AssetStatuses = Annotated[list[AssetStatus], enum_list("status", AssetStatus, "Statuses")]
Communes = Annotated[
    str | None,
    Query(description="Commune codes or names, comma-separated; an unknown one is refused"),
]


def _wants_geojson(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "geojson"
    return GEOJSON in request.headers.get("accept", "")


@router.get(
    "",
    response_model=AssetPage,
    responses={200: {"content": {GEOJSON: {"schema": {"type": "object"}}}}},
)
async def list_assets(
    ctx: Ctx,
    request: Request,
    types: AssetTypes,
    statuses: AssetStatuses,
    commune: Communes = None,
    parent: Annotated[str | None, Query(max_length=64)] = None,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in id or name")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_GEOJSON_PAGE)] = 100,
    format: Annotated[Literal["json", "geojson"] | None, Query()] = None,
    detail: Annotated[bool, Query(description="GeoJSON: include attributes and tags")] = False,
) -> Response | AssetPage:
    """Assets in your scope, by id, a page at a time.

    With ``Accept: application/geo+json`` (or ``format=geojson``) the page is a GeoJSON
    FeatureCollection for maps, up to 50,000 features at once; ``next_cursor`` is a
    foreign member and a ``Link: rel=next`` header.
    """
    geojson = _wants_geojson(request, format)
    if not geojson and limit > MAX_PAGE:
        raise InvalidInput(FieldError("limit", f"at most {MAX_PAGE} per JSON page"))
    f = AssetFilter(
        types=types,
        communes=comma_list(commune),
        statuses=statuses,
        parent_id=parent,
        bbox=BBox.parse(bbox) if bbox else None,
        q=q,
        cursor=cursor,
        limit=limit,
    )
    if not geojson:
        items, next_cursor = await reading.list_assets(ctx, f)
        return AssetPage(items=items, next_cursor=next_cursor)
    scope = "*" if ctx.principal.communes is None else ",".join(sorted(ctx.principal.communes))
    # The cached body depends on what exists for the caller: the commune scope, and the
    # equipment hidden from them (cameras), both in the key.
    hidden = ",".join(sorted(hidden_types(ctx.principal)))
    version = await reading.fingerprint(ctx, f)
    key = f"{version}|{scope}|{hidden}|{request.url.query}"
    digest = hashlib.sha256(key.encode()).hexdigest()
    etag = f'"{digest[:32]}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    cache: ResponseCache = request.app.state.response_cache
    entry = cache.get(etag)
    if entry is None:
        features, next_cursor = await list_features(ctx, f, detail=detail)
        body = b"".join(
            (
                b'{"type":"FeatureCollection","features":[',
                ",".join(features).encode(),
                b'],"next_cursor":',
                orjson.dumps(next_cursor),
                b"}",
            )
        )
        entry = Cached(body, next_cursor)
        cache.put(etag, entry)
    if entry.next_cursor:
        link = request.url.include_query_params(cursor=entry.next_cursor)
        headers["Link"] = f'<{link}>; rel="next"'
    return Response(entry.body, media_type=GEOJSON, headers=headers)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_asset(ctx: Ctx, body: AssetCreate) -> AssetOut:
    """Register a piece of equipment."""
    return await service.create_asset(ctx, body)


@router.get("/export", responses={200: {"content": {GEOJSON: {}, "text/csv": {}}}})
async def export_assets(
    ctx: Ctx,
    types: AssetTypes,
    format: Annotated[Literal["geojson", "csv"], Query()] = "geojson",
    commune: Communes = None,
) -> StreamingResponse:
    """Every asset in your scope (optionally of some types or communes) as a file."""
    f = AssetFilter(types=types, communes=comma_list(commune))
    media, ext = ("text/csv; charset=utf-8", "csv") if format == "csv" else (GEOJSON, "geojson")
    pages = reading.pages(ctx, f)
    # The first page is read here, so that a refusal (scope, filters) is an error answer,
    # not a broken stream; the rest is read as the client takes the file.
    first = await anext(pages)
    return StreamingResponse(
        stream(_prepend(first, pages), format),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="beffroi-assets.{ext}"'},
    )


@router.post(
    "/import",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                GEOJSON: {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_assets(
    ctx: Ctx,
    request: Request,
    format: Annotated[Literal["geojson", "csv"] | None, Query()] = None,
    skip_invalid: Annotated[
        bool, Query(description="Import the good rows, report the rest")
    ] = False,
    dry_run: Annotated[bool, Query(description="Check only; write nothing")] = False,
) -> ImportReport:
    """Create or update assets from a GeoJSON or CSV file: all or nothing by default.

    A refused import answers 422 with every bad row and field, and writes nothing.
    """
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > MAX_IMPORT_BYTES:
            raise InvalidInput(FieldError("file", f"larger than {MAX_IMPORT_BYTES} bytes"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(FieldError("file", f"not UTF-8 (byte {exc.start})")) from None
    content_type = request.headers.get("content-type", "")
    fmt = format or ("csv" if "csv" in content_type else None) or detect_format("", text)
    items, errors = parse_csv(text) if fmt == "csv" else parse_geojson(text)
    if errors and not items and not skip_invalid:
        raise InvalidInput(errors, f"import refused, nothing written: {len(errors)} error(s)")
    return await importing.import_assets(
        ctx,
        items,
        skip_invalid=skip_invalid,
        dry_run=dry_run,
        source=f"api:{fmt}",
        parse_errors=errors,
    )


@router.get("/{asset_id}")
async def get_asset(ctx: Ctx, asset_id: str) -> AssetOut:
    """One asset."""
    return await reading.get_asset(ctx, asset_id)


@router.patch("/{asset_id}")
async def update_asset(ctx: Ctx, asset_id: str, body: AssetUpdate) -> AssetOut:
    """Change an asset; send ``version`` to refuse a change made on a stale copy."""
    return await service.update_asset(ctx, asset_id, body)


@router.post("/{asset_id}/decommission")
async def decommission_asset(ctx: Ctx, asset_id: str, body: Decommission) -> AssetOut:
    """Retire an asset for good, with a reason."""
    return await service.decommission_asset(ctx, asset_id, body.reason)


async def _prepend(
    first: list[AssetOut], rest: AsyncIterator[list[AssetOut]]
) -> AsyncIterator[list[AssetOut]]:
    yield first
    async for page in rest:
        yield page
