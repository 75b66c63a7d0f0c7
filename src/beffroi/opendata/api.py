"""The public open data API (no login), in the manner of the Opendatasoft Explore API
v2.1 that French portals speak, under ``/api/explore/v2.1``.

Every route is rate-limited per client (its address, or its API key sent as
``Authorization: Apikey <key>``, which gets the higher limit), answers with an ETag and
``Cache-Control``, and a 304 to a client whose ETag is current.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from beffroi.core.context import Runtime
from beffroi.core.errors import NotAuthenticated
from beffroi.http.ratelimit import RateLimiter, client_key, get_rate_limiter
from beffroi.http.streaming import rendered_ahead
from beffroi.opendata import dcat, keys, portal
from beffroi.opendata.datasets import DATASETS
from beffroi.opendata.exports import MEDIA_TYPES, ExportFormat
from beffroi.opendata.query import Query as RecordsQuery
from beffroi.opendata.reading import Published
from beffroi.opendata.schemas import Catalog, DatasetOut, RecordsPage
from beffroi.opendata.store import store_of

PREFIX = "/api/explore/v2.1"
CACHE_CONTROL = "public, max-age=60"
APIKEY = "apikey "


# The public routes' dependencies are coroutines: FastAPI runs a plain function in its
# thread pool, a hop that costs more than the cached answer itself.
async def runtime_of(request: Request) -> Runtime:
    """The process runtime (as ``http.deps.RuntimeDep``, without the thread hop)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def limiter_of(request: Request) -> RateLimiter:
    """The application's rate limiter (``RateLimitDep``'s)."""
    return await get_rate_limiter(request)


async def published_of(request: Request) -> Published:
    """The application's open data caches (made on first use)."""
    state = request.app.state
    found: Published | None = getattr(state, "opendata", None)
    if found is None:
        found = state.opendata = Published(store_of(state.runtime.settings))
    return found


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
PublishedDep = Annotated[Published, Depends(published_of)]
LimiterDep = Annotated[RateLimiter, Depends(limiter_of)]


async def limited(
    request: Request, runtime: RuntimeDep, limiter: LimiterDep, published: PublishedDep
) -> None:
    """Count the request against its client's limit: its API key's, else its address's."""
    header = request.headers.get("authorization", "")
    settings = runtime.settings
    if header[: len(APIKEY)].lower() == APIKEY:
        key = header[len(APIKEY) :].strip()
        digest = keys.digest(key)
        if digest in published.keys:
            key_id = published.keys[digest]
        else:
            key_id = published.keys[digest] = await keys.holder(runtime.db, key)
        if key_id is None:
            # A wrong key still counts against its address: guessing keys is limited too.
            await limiter.check("opendata", client_key(request), settings.opendata_rate_limit)
            raise NotAuthenticated("Authorization: unknown or revoked open data API key")
        await limiter.check("opendata", f"key:{key_id}", settings.opendata_key_rate_limit)
        return
    await limiter.check("opendata", client_key(request), settings.opendata_rate_limit)


router = APIRouter(prefix=PREFIX, tags=["open data"], dependencies=[Depends(limited)])

DatasetId = Annotated[str, Path(max_length=64, description="Dataset identifier")]
IfNoneMatch = Annotated[str | None, Header(max_length=500)]
Select = Annotated[str | None, Query(max_length=2000, description="Fields, aggregates, AS")]
Where = Annotated[str | None, Query(max_length=2000, description="ODSQL conditions")]
GroupBy = Annotated[str | None, Query(max_length=2000, description="Fields or month(f)…")]
OrderBy = Annotated[str | None, Query(max_length=2000, description="Fields, ASC or DESC")]
Offset = Annotated[int, Query(description="Records skipped")]


def _api_root(request: Request, runtime: RuntimeDep) -> str:
    base = runtime.settings.public_url or str(request.base_url)
    return base.rstrip("/") + PREFIX


def _tagged(answer: portal.Tagged, media_type: str = "application/json") -> Response:
    headers = {"ETag": answer.etag, "Cache-Control": CACHE_CONTROL}
    if answer.body is None:
        return Response(status_code=304, headers=headers)
    return Response(answer.body, media_type=media_type, headers=headers)


def _json(model: type[Any]) -> dict[int | str, dict[str, Any]]:
    return {200: {"model": model}, 304: {"description": "Not modified (If-None-Match)"}}


@router.get("/catalog/datasets", responses=_json(Catalog))
async def catalog(
    request: Request,
    runtime: RuntimeDep,
    published: PublishedDep,
    if_none_match: IfNoneMatch = None,
    q: Annotated[str | None, Query(max_length=200, description="Words to find")] = None,
    theme: Annotated[list[str], Query(max_length=100, description="Only these themes")] = [],  # noqa: B006 - FastAPI reads the default
    refine: Annotated[list[str], Query(max_length=200, description='theme:"Énergie"')] = [],  # noqa: B006
    limit: Annotated[int, Query(description="Datasets per page, at most 100")] = 10,
    offset: Offset = 0,
) -> Response:
    """The datasets published, searched by words and themes."""
    answer = await portal.catalog(
        runtime.db,
        published,
        _api_root(request, runtime),
        q=q,
        themes=theme,
        refine=refine,
        limit=limit,
        offset=offset,
    )
    if if_none_match is not None and answer.etag in if_none_match:
        return _tagged(portal.Tagged(answer.etag))
    return _tagged(answer)


@router.get("/catalog/datasets/{dataset_id}", responses=_json(DatasetOut))
async def dataset(
    request: Request,
    runtime: RuntimeDep,
    published: PublishedDep,
    dataset_id: DatasetId,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """A dataset's metadata: its fields, licence, geometry and current snapshot."""
    answer = await portal.metadata(runtime.db, published, _api_root(request, runtime), dataset_id)
    if if_none_match is not None and answer.etag in if_none_match:
        return _tagged(portal.Tagged(answer.etag))
    return _tagged(answer)


@router.get("/catalog/datasets/{dataset_id}/records", responses=_json(RecordsPage))
async def records(
    runtime: RuntimeDep,
    published: PublishedDep,
    dataset_id: DatasetId,
    if_none_match: IfNoneMatch = None,
    select: Select = None,
    where: Where = None,
    group_by: GroupBy = None,
    order_by: OrderBy = None,
    limit: Annotated[
        int | None, Query(description="Records per page (default 10, at most 100)")
    ] = None,
    offset: Offset = 0,
) -> Response:
    """A page of a dataset's records, selected, filtered, grouped and sorted in ODSQL."""
    asked = RecordsQuery(select, where, group_by, order_by, limit, offset)
    return _tagged(await portal.records(runtime.db, published, dataset_id, asked, if_none_match))


@router.get(
    "/catalog/datasets/{dataset_id}/exports/{format}",
    responses={
        200: {"content": {m.split(";")[0]: {} for m in MEDIA_TYPES.values()}},
        304: {"description": "Not modified (If-None-Match)"},
    },
)
async def export(
    runtime: RuntimeDep,
    published: PublishedDep,
    dataset_id: DatasetId,
    format: ExportFormat,
    if_none_match: IfNoneMatch = None,
    select: Select = None,
    where: Where = None,
    group_by: GroupBy = None,
    order_by: OrderBy = None,
    limit: Annotated[int | None, Query(description="Records at most; -1 or none: all")] = None,
    offset: Offset = 0,
) -> Response:
    """The whole snapshot (or what ``where``/``select`` keep of it), streamed."""
    asked = RecordsQuery(select, where, group_by, order_by, limit, offset)
    out = await portal.export(
        runtime.db,
        published,
        dataset_id,
        format,
        asked,
        runtime.settings.opendata_max_export_rows,
        if_none_match,
    )
    headers = {
        "ETag": out.etag,
        "Cache-Control": CACHE_CONTROL,
        "Content-Disposition": f'attachment; filename="{out.filename}"',
    }
    if out.not_modified:
        return Response(status_code=304, headers=headers)
    return StreamingResponse(rendered_ahead(out.chunks), media_type=out.media_type, headers=headers)


async def _dcat(
    request: Request,
    runtime: RuntimeDep,
    published: Published,
    if_none_match: str | None,
    kind: str,
) -> Response:
    """The DCAT-AP catalogue in ``kind`` (jsonld, ttl), rendered once per set of versions."""
    snapshots = {ds.id: await published.snapshot(runtime.db, ds.id) for ds in DATASETS}
    base = (runtime.settings.public_url or str(request.base_url)).rstrip("/")
    versions = sorted((k, s.version if s else 0) for k, s in snapshots.items())
    etag = portal.etag_of("dcat", kind, base, versions)
    if if_none_match is not None and etag in if_none_match:
        return _tagged(portal.Tagged(etag))
    render = dcat.jsonld if kind == "jsonld" else dcat.turtle
    body = published.answer(etag, lambda: render(dcat.catalog_graph(DATASETS, snapshots, base)))
    media = "application/ld+json" if kind == "jsonld" else "text/turtle; charset=utf-8"
    return _tagged(portal.Tagged(etag, body), media)


@router.get(
    "/catalog/exports/dcat.jsonld", responses={200: {"content": {"application/ld+json": {}}}}
)
async def dcat_jsonld(
    request: Request,
    runtime: RuntimeDep,
    published: PublishedDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """The catalogue in DCAT-AP, as JSON-LD (for the national portal's harvester)."""
    return await _dcat(request, runtime, published, if_none_match, "jsonld")


@router.get("/catalog/exports/dcat.ttl", responses={200: {"content": {"text/turtle": {}}}})
async def dcat_turtle(
    request: Request,
    runtime: RuntimeDep,
    published: PublishedDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """The catalogue in DCAT-AP, as Turtle."""
    return await _dcat(request, runtime, published, if_none_match, "ttl")
