"""Reading assets and their newest values as NGSI-LD entities, in the caller's scope.

Entities are made from the registry (``assets.reading``, scoped by the caller) and the
newest values (``telemetry.service.latest``), a page of assets at a time; ``type``, ``id``
and the geo-query's bounding box narrow the assets in SQL, the rest (``idPattern``, ``q``,
the exact geometry) is tested on each entity. Cameras (as Devices: no Smart Data Model
is mapped for them) exist only for whom ``Principal.sees_video``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from beffroi.assets.filters import AssetFilter, BBox
from beffroi.assets.lifecycle import AssetStatus
from beffroi.assets.reading import get_asset, pages, scoped_asset_ids
from beffroi.assets.schemas import AssetOut
from beffroi.catalogue import CATALOGUE
from beffroi.core.context import Context
from beffroi.core.errors import NotFound
from beffroi.core.principal import Permission, Principal
from beffroi.ngsi import entities as build
from beffroi.ngsi.params import Selection
from beffroi.ngsi.query import matches
from beffroi.ngsi.terms import KINDS, EntityKind, context_document, entity_id, parse_entity_id
from beffroi.telemetry.service import AssetState, latest

# Equipment of video-protection: it exists only for whom the law designates.
VIDEO_TYPES = frozenset({"camera"})
PAGE = 500
FIRST_PAGE_MIN = 50  # assets read first when fewer entities are asked for


def shown_types(principal: Principal) -> tuple[str, ...]:
    """The equipment types the facade shows this principal."""
    return tuple(t for t in CATALOGUE if principal.sees_video or t not in VIDEO_TYPES)


@dataclass(frozen=True, slots=True)
class Found:
    """One entity: its kind, the asset it is made from, its attributes."""

    kind: EntityKind
    asset: AssetOut
    readings: dict[str, build.Reading]

    @property
    def id(self) -> str:
        """The entity's URN."""
        return entity_id(self.kind.name, self.asset.id)

    def document(self, attrs: tuple[str, ...], *, key_values: bool) -> dict[str, Any]:
        """The entity as answered (without ``@context``)."""
        return build.entity(self.kind, self.asset, self.readings, attrs, key_values=key_values)


def _equipment_types(shown: tuple[str, ...], sel: Selection) -> list[str]:
    if not sel.kinds and not sel.ids:
        return list(shown)
    named = list(sel.kinds) + [KINDS[t] for t, _ in sel.ids]
    wanted: set[str] = set()
    for kind in named:
        wanted |= {kind.equipment_type} if kind.equipment_type else set(shown)
    return [t for t in shown if t in wanted]


async def _states(ctx: Context, page: list[AssetOut]) -> dict[str, AssetState]:
    ids = [a.id for a in page]
    every_status = list(AssetStatus)
    f = AssetFilter(ids=ids, statuses=every_status, limit=len(ids))
    states, _ = await latest(ctx, f)
    return {s.asset_id: s for s in states}


async def _assets(ctx: Context, sel: Selection, chunk: int) -> AsyncIterator[list[AssetOut]]:
    """The live assets in scope the selection may take, a page at a time."""
    shown = shown_types(ctx.principal)
    types = _equipment_types(shown, sel)
    if not types:
        return
    box = sel.where.bbox() if sel.where is not None else None
    f = AssetFilter(
        types=types,
        ids=sorted({asset_id for _, asset_id in sel.ids}),
        bbox=BBox(*box) if box else None,
    )
    async for page in pages(ctx, f, chunk=chunk):
        page = [a for a in page if a.type in shown]
        if page:
            yield page


def _selected(sel: Selection, kind: EntityKind, asset: AssetOut) -> bool:
    """What the entity's id and place decide, before its attributes are read."""
    if sel.kinds and kind not in sel.kinds:
        return False
    if sel.ids and (kind.name, asset.id) not in sel.ids:
        return False
    if sel.pattern is not None and sel.pattern.search(entity_id(kind.name, asset.id)) is None:
        return False
    lon, lat = asset.location.coordinates
    return sel.where is None or sel.where.holds(lon, lat)


def _kept(sel: Selection, found: dict[str, build.Reading]) -> bool:
    """What the entity's attributes decide: ``q``, and ``attrs`` (an entity holding none
    of the attributes asked for is left out, as NGSI-LD says)."""
    if sel.q is not None and not matches(sel.q, build.plain_values(found)):
        return False
    if sel.attrs and build.LOCATION not in sel.attrs:
        return any(term in found for term in sel.attrs)
    return True


async def matching(ctx: Context, sel: Selection, chunk: int = PAGE) -> AsyncIterator[Found]:
    """Every entity in scope the selection takes, by asset id then kind."""
    ctx.principal.require(Permission.ASSET_READ)
    async for page in _assets(ctx, sel, chunk):
        states = await _states(ctx, page)
        for asset in page:
            for kind in build.kinds_of(asset.type):
                if not _selected(sel, kind, asset):
                    continue
                found = build.readings(kind, asset, states.get(asset.id))
                if _kept(sel, found):
                    yield Found(kind, asset, found)


async def query_entities(
    ctx: Context, sel: Selection, limit: int, offset: int, *, count: bool
) -> tuple[list[Found], int | None]:
    """A page of the matching entities, and how many match in all when ``count``."""
    out: list[Found] = []
    total = 0
    # Each asset gives one or two entities: a first page of about what is asked for is
    # often enough, and its newest values are all read with it.
    chunk = PAGE if count else max(FIRST_PAGE_MIN, min(PAGE, offset + limit))
    async for found in matching(ctx, sel, chunk):
        if offset <= total < offset + limit:
            out.append(found)
        total += 1
        if not count and total >= offset + limit:
            break
    return out, (total if count else None)


async def get_entity(ctx: Context, urn: str) -> Found:
    """One entity by its URN; one outside the scope is as not found as one that is not."""
    ctx.principal.require(Permission.ASSET_READ)
    parsed = parse_entity_id(urn)
    missing = NotFound(f"entity {urn[:120]!r} not found")
    if parsed is None:
        raise missing
    kind_name, asset_id = parsed
    try:
        asset = await get_asset(ctx, asset_id)
    except NotFound:
        raise missing from None
    kind = KINDS[kind_name]
    if (
        asset.type not in shown_types(ctx.principal)
        or asset.status is AssetStatus.DECOMMISSIONED
        or kind not in build.kinds_of(asset.type)
    ):
        raise missing
    states = await _states(ctx, [asset])
    return Found(kind, asset, build.readings(kind, asset, states.get(asset.id)))


async def entity_types(ctx: Context) -> list[EntityKind]:
    """The entity types of which the caller sees at least one entity."""
    ctx.principal.require(Permission.ASSET_READ)
    present: set[str] = set()
    for equipment_type in shown_types(ctx.principal):
        ids, _ = await scoped_asset_ids(ctx, AssetFilter(types=[equipment_type], limit=1))
        if ids:
            present |= {k.name for k in build.kinds_of(equipment_type)}
    return [kind for name, kind in KINDS.items() if name in present]


def json_ld_context(ctx: Context) -> dict[str, Any]:
    """The JSON-LD context of the answers, for whoever may read the registry."""
    ctx.principal.require(Permission.ASSET_READ)
    return context_document()
