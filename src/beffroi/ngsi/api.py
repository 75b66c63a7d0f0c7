"""Routes of the NGSI-LD read facade (ETSI GS CIM 009) under ``/ngsi-ld/v1``: entities,
types, temporal entities and the JSON-LD context, for a bearer token with asset:read."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response

from beffroi.http.deps import Ctx
from beffroi.ngsi import params, service, temporal
from beffroi.ngsi.answers import LD_JSON, RESULTS_COUNT, NgsiRoute, answer
from beffroi.ngsi.terms import CONTEXT_PATH

router = APIRouter(prefix="/ngsi-ld/v1", tags=["ngsi-ld"], route_class=NgsiRoute)

# Every parameter is read as text and checked by beffroi.ngsi.params, so that an error is
# NGSI-LD's BadRequestData naming it (FastAPI's own checks would answer 422).
Text = Annotated[str | None, Query(max_length=20_000)]
TypeParam = Annotated[str | None, Query(alias="type", max_length=4000, description="Entity types")]
IdParam = Annotated[str | None, Query(alias="id", max_length=8000, description="Entity ids")]
PatternParam = Annotated[str | None, Query(alias="idPattern", max_length=1000)]
LastN = Annotated[str | None, Query(alias="lastN", max_length=20)]
TimeAt = Annotated[str | None, Query(alias="timeAt", max_length=64)]
EndTimeAt = Annotated[str | None, Query(alias="endTimeAt", max_length=64)]


def _selection(
    type_: str | None,
    id_: str | None,
    pattern: str | None,
    attrs: str | None,
    q: str | None,
    georel: str | None,
    geometry: str | None,
    coordinates: str | None,
    geoproperty: str | None,
) -> params.Selection:
    return params.selection(
        type_, id_, pattern, attrs, q, georel, geometry, coordinates, geoproperty
    )


@router.get("/entities")
async def query_entities(
    ctx: Ctx,
    request: Request,
    type_: TypeParam = None,
    id_: IdParam = None,
    id_pattern: PatternParam = None,
    attrs: Text = None,
    q: Text = None,
    georel: Text = None,
    geometry: Text = None,
    coordinates: Text = None,
    geoproperty: Text = None,
    limit: Text = None,
    offset: Text = None,
    count: Text = None,
    options: Text = None,
) -> Response:
    """Entities in the caller's scope matching the query, normalized or keyValues."""
    sel = _selection(type_, id_, id_pattern, attrs, q, georel, geometry, coordinates, geoproperty)
    chosen = params.options(options, ("keyValues", "normalized", "count"))
    with_count = params.flag("count", count) or "count" in chosen
    page_size = params.number("limit", limit, params.DEFAULT_LIMIT, 0, params.MAX_LIMIT)
    if page_size == 0 and not with_count:
        raise params.refuse("limit", "limit=0 goes with count=true")
    start = params.number("offset", offset, 0, 0, 1_000_000)
    found, total = await service.query_entities(ctx, sel, page_size, start, count=with_count)
    key_values = "keyValues" in chosen
    body = [f.document(sel.attrs, key_values=key_values) for f in found]
    headers = {RESULTS_COUNT: str(total)} if total is not None else None
    return answer(request, body, headers)


@router.get("/entities/{entity_id}")
async def get_entity(
    ctx: Ctx,
    request: Request,
    entity_id: str,
    attrs: Text = None,
    options: Text = None,
) -> Response:
    """One entity by its URN (urn:ngsi-ld:<Type>:<asset id>)."""
    wanted = params.attrs(attrs)
    key_values = "keyValues" in params.options(options, ("keyValues", "normalized"))
    found = await service.get_entity(ctx, entity_id)
    return answer(request, found.document(wanted, key_values=key_values))


@router.get("/types")
async def list_types(ctx: Ctx, request: Request, details: Text = None) -> Response:
    """The entity types the caller sees entities of; with ``details=true``, each with
    its attribute names."""
    detailed = params.flag("details", details)
    kinds = await service.entity_types(ctx)
    if not detailed:
        body: dict[str, Any] | list[dict[str, Any]] = {
            "id": "urn:ngsi-ld:EntityTypeList:beffroi",
            "type": "EntityTypeList",
            "typeList": [k.name for k in kinds],
        }
    else:
        body = [
            {
                "id": k.iri,
                "type": "EntityType",
                "typeName": k.name,
                "attributeNames": [a.term for a in k.attributes] + ["location"],
            }
            for k in kinds
        ]
    return answer(request, body)


@router.get("/temporal/entities")
async def query_temporal(
    ctx: Ctx,
    request: Request,
    type_: TypeParam = None,
    id_: IdParam = None,
    id_pattern: PatternParam = None,
    attrs: Text = None,
    q: Text = None,
    georel: Text = None,
    geometry: Text = None,
    coordinates: Text = None,
    geoproperty: Text = None,
    timerel: Text = None,
    time_at: TimeAt = None,
    end_time_at: EndTimeAt = None,
    last_n: LastN = None,
    limit: Text = None,
    offset: Text = None,
    count: Text = None,
    options: Text = None,
) -> Response:
    """The stored readings of the matching entities' attributes over a time window."""
    sel = _selection(type_, id_, id_pattern, attrs, q, georel, geometry, coordinates, geoproperty)
    window = params.time_window(timerel, time_at, end_time_at, last_n)
    chosen = params.options(options, ("temporalValues", "count"))
    with_count = params.flag("count", count) or "count" in chosen
    page_size = params.number("limit", limit, params.DEFAULT_LIMIT, 1, 100)
    start = params.number("offset", offset, 0, 0, 1_000_000)
    found, total = await service.query_entities(ctx, sel, page_size, start, count=with_count)
    stored = await temporal.readings(ctx, found, window, sel.attrs)
    values = "temporalValues" in chosen
    body = [temporal.document(f, stored, sel.attrs, temporal_values=values) for f in found]
    headers = {RESULTS_COUNT: str(total)} if total is not None else None
    return answer(request, body, headers)


@router.get("/temporal/entities/{entity_id}")
async def get_temporal(
    ctx: Ctx,
    request: Request,
    entity_id: str,
    attrs: Text = None,
    timerel: Text = None,
    time_at: TimeAt = None,
    end_time_at: EndTimeAt = None,
    last_n: LastN = None,
    options: Text = None,
) -> Response:
    """The stored readings of one entity's attributes over a time window."""
    wanted = params.attrs(attrs)
    window = params.time_window(timerel, time_at, end_time_at, last_n)
    values = "temporalValues" in params.options(options, ("temporalValues",))
    found = await service.get_entity(ctx, entity_id)
    stored = await temporal.readings(ctx, [found], window, wanted)
    return answer(request, temporal.document(found, stored, wanted, temporal_values=values))


@router.get(CONTEXT_PATH.removeprefix("/ngsi-ld/v1"))
async def get_context(ctx: Ctx) -> Response:
    """The JSON-LD context defining every term the facade's answers hold."""
    return Response(orjson.dumps(service.json_ld_context(ctx)), 200, media_type=LD_JSON)
