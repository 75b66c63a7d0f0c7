"""Use cases of the equipment registry: list, read, create, update, decommission, import."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    cast,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets.lifecycle import AssetStatus
from beffroi.assets.models import ASSET_ID_PATTERN, Asset
from beffroi.assets.schemas import AssetCreate, AssetOut, AssetUpdate, Point
from beffroi.assets.validation import CommuneIndex, Known, check_asset, known_assets
from beffroi.communes.lookup import filter_codes
from beffroi.core import audit
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow

ASSET_ID_RE = re.compile(ASSET_ID_PATTERN)


AnySelect = TypeVar("AnySelect", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True, slots=True)
class BBox:
    """A WGS84 bounding box (min lon, min lat, max lon, max lat)."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @classmethod
    def parse(cls, text: str) -> BBox:
        """Parse ``minlon,minlat,maxlon,maxlat``; an error names the parameter."""
        try:
            values = [float(v) for v in text.split(",")]
        except ValueError:
            values = []
        if len(values) != 4:
            raise InvalidInput(FieldError("bbox", "expected minlon,minlat,maxlon,maxlat"))
        box = cls(*values)
        if not (
            -180 <= box.min_lon <= box.max_lon <= 180 and -90 <= box.min_lat <= box.max_lat <= 90
        ):
            raise InvalidInput(
                FieldError("bbox", "expected min <= max within lon -180..180 and lat -90..90")
            )
        return box


@dataclass(frozen=True, slots=True)
class AssetFilter:
    """Filters of an asset listing. Lists mean "any of"."""

    types: Sequence[str] = ()
    communes: Sequence[str] = ()
    statuses: Sequence[AssetStatus] = ()
    parent_id: str | None = None
    bbox: BBox | None = None
    q: str | None = None
    ids: Sequence[str] = ()
    cursor: str | None = None
    limit: int = 100


def encode_cursor(last_id: str) -> str:
    """An opaque cursor after ``last_id``."""
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The id a cursor points after; a forged or damaged cursor is a named error."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        last_id = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        last_id = ""
    if not ASSET_ID_RE.match(last_id):
        raise InvalidInput(FieldError("cursor", "not a cursor returned by this API"))
    return last_id


def to_out(asset: Asset) -> AssetOut:
    """The API shape of an asset row."""
    return AssetOut(
        id=asset.id,
        type=asset.type,
        name=asset.name,
        commune=asset.commune_code,
        location=Point(coordinates=(asset.lon, asset.lat)),
        parent_id=asset.parent_id,
        status=AssetStatus(asset.status),
        attributes=asset.attributes,
        manufacturer=asset.manufacturer,
        model=asset.model,
        installed_on=asset.installed_on,
        tags=asset.tags,
        version=asset.version,
        created_at=asset.created_at,
        updated_at=asset.updated_at,
    )


async def _filtered(
    ctx: Context, session: AsyncSession, stmt: AnySelect, f: AssetFilter, *, paged: bool = True
) -> AnySelect:
    """Apply the caller's scope and the filter to a select over assets."""
    stmt = stmt.where(ctx.principal.scope_clause(Asset.commune_code))
    if f.types:
        stmt = stmt.where(Asset.type.in_(list(f.types)))
    if f.communes:
        codes = await filter_codes(session, ctx.principal, f.communes)
        stmt = stmt.where(Asset.commune_code.in_(codes))
    if f.statuses:
        stmt = stmt.where(Asset.status.in_([s.value for s in f.statuses]))
    else:
        stmt = stmt.where(Asset.status != AssetStatus.DECOMMISSIONED.value)
    if f.parent_id:
        stmt = stmt.where(Asset.parent_id == f.parent_id)
    if f.ids:
        stmt = stmt.where(Asset.id.in_(list(f.ids)))
    if f.bbox:
        b = f.bbox
        stmt = stmt.where(
            Asset.lon >= b.min_lon,
            Asset.lon <= b.max_lon,
            Asset.lat >= b.min_lat,
            Asset.lat <= b.max_lat,
        )
    if f.q:
        pattern = (
            "%" + f.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        stmt = stmt.where(
            or_(
                Asset.id.ilike(pattern, escape="\\"),
                Asset.name.ilike(pattern, escape="\\"),
            )
        )
    if f.cursor:
        stmt = stmt.where(Asset.id > decode_cursor(f.cursor))
    return stmt.order_by(Asset.id).limit(f.limit + 1) if paged else stmt


def _page(rows: Sequence[Any], limit: int) -> tuple[Sequence[Any], str | None]:
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1].id)
    return rows, None


async def list_assets(ctx: Context, f: AssetFilter) -> tuple[list[AssetOut], str | None]:
    """A page of assets in scope matching ``f``, by id, and the cursor of the next page."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        stmt = await _filtered(ctx, session, select(Asset), f)
        rows = (await session.execute(stmt)).scalars().all()
    page, cursor = _page(rows, f.limit)
    return [to_out(a) for a in page], cursor


def _feature_json(dialect: str, detail: bool) -> ColumnElement[str]:
    """A SQL expression rendering one asset as GeoJSON Feature text.

    The database builds the JSON: for the whole city this halves the time of building
    dicts in Python and serialising them (measured by bench/registry).
    """
    if dialect == "postgresql":
        obj, arr = func.json_build_object, func.json_build_array

        def embed(column: Any) -> Any:
            return column

    else:
        obj, arr = func.json_object, func.json_array

        def embed(column: Any) -> Any:
            return func.json(column)

    properties: list[Any] = [
        "id", Asset.id, "type", Asset.type, "name", Asset.name, "commune", Asset.commune_code,
        "status", Asset.status, "parent_id", Asset.parent_id,
    ]  # fmt: skip
    if detail:
        properties += [
            "attributes", embed(Asset.attributes), "manufacturer", Asset.manufacturer,
            "model", Asset.model, "installed_on", Asset.installed_on, "tags", embed(Asset.tags),
        ]  # fmt: skip
    feature = obj(
        "type", "Feature", "id", Asset.id,
        "geometry", obj("type", "Point", "coordinates", arr(Asset.lon, Asset.lat)),
        "properties", obj(*properties),
    )  # fmt: skip
    return cast(feature, Text)


async def list_features(
    ctx: Context, f: AssetFilter, *, detail: bool = False
) -> tuple[list[str], str | None]:
    """A page of assets as GeoJSON Feature texts, ready to join into a FeatureCollection
    (the map loads the whole city at once)."""
    ctx.principal.require(Permission.ASSET_READ)
    expr = _feature_json(ctx.db.url.get_backend_name(), detail).label("feature")
    async with ctx.db.read() as session:
        stmt = await _filtered(ctx, session, select(Asset.id, expr), f)
        rows = (await session.execute(stmt)).all()
    page, cursor = _page(rows, f.limit)
    return [row.feature for row in page], cursor


async def scoped_asset_ids(ctx: Context, f: AssetFilter) -> tuple[list[str], str | None]:
    """Ids of a page of assets in scope matching ``f`` (for other areas' bulk reads)."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        stmt = await _filtered(ctx, session, select(Asset.id), f)
        rows = (await session.execute(stmt)).all()
    page, cursor = _page(rows, f.limit)
    return [row.id for row in page], cursor


@dataclass(frozen=True, slots=True)
class AssetRef:
    """An asset reduced to what another area needs to address it."""

    id: str
    type: str
    commune: str
    status: str
    parent_id: str | None


ID_CHUNK = 5000  # ids per IN (...): both drivers cap the bound parameters of a statement


async def asset_refs(ctx: Context, f: AssetFilter) -> list[AssetRef]:
    """Every asset in scope matching ``f``, by id, unpaged (group command targets)."""
    ctx.principal.require(Permission.ASSET_READ)
    columns = select(Asset.id, Asset.type, Asset.commune_code, Asset.status, Asset.parent_id)
    id_chunks: list[Sequence[str]] = [()]
    if f.ids:
        ids = sorted(set(f.ids))
        id_chunks = [ids[i : i + ID_CHUNK] for i in range(0, len(ids), ID_CHUNK)]
    out: list[AssetRef] = []
    async with ctx.db.read() as session:
        for chunk in id_chunks:
            part = dataclasses.replace(f, ids=chunk, cursor=None)
            stmt = await _filtered(ctx, session, columns, part, paged=False)
            rows = await session.execute(stmt.order_by(Asset.id))
            out += [AssetRef(r.id, r.type, r.commune_code, r.status, r.parent_id) for r in rows]
    return out


async def fingerprint(ctx: Context, f: AssetFilter) -> str:
    """A value that changes whenever any asset matching ``f`` in scope changes: cheap
    enough to ask on every map load, so the whole-city GeoJSON can be cached."""
    ctx.principal.require(Permission.ASSET_READ)
    columns = (func.count(), func.coalesce(func.sum(Asset.version), 0), func.max(Asset.updated_at))
    async with ctx.db.read() as session:
        stmt = await _filtered(ctx, session, select(*columns), f, paged=False)
        count, versions, latest = (await session.execute(stmt)).one()
    return f"{count}:{versions}:{latest.isoformat() if latest else '-'}"


async def pages(ctx: Context, f: AssetFilter, chunk: int = 5000) -> AsyncIterator[list[AssetOut]]:
    """Every asset matching ``f`` in scope, a page of ``chunk`` at a time (exports of the
    whole city): one page in memory, each read in a transaction of its own."""
    ctx.principal.require(Permission.ASSET_READ)
    cursor = f.cursor
    while True:
        page_filter = dataclasses.replace(f, cursor=cursor, limit=chunk)
        async with ctx.db.read() as session:
            stmt = await _filtered(ctx, session, select(Asset), page_filter)
            rows = (await session.execute(stmt)).scalars().all()
        page, cursor = _page(rows, chunk)
        yield [to_out(asset) for asset in page]
        if cursor is None:
            return


async def iter_assets(ctx: Context, f: AssetFilter, chunk: int = 5000) -> AsyncIterator[AssetOut]:
    """Every asset matching ``f`` in scope, one at a time (read a page at a time)."""
    async for page in pages(ctx, f, chunk):
        for asset in page:
            yield asset


async def _get_in_scope(
    session: AsyncSession, ctx: Context, asset_id: str, *, lock: bool = False
) -> Asset:
    stmt = select(Asset).where(Asset.id == asset_id)
    if lock:
        stmt = stmt.with_for_update()
    asset = (await session.execute(stmt)).scalar_one_or_none()
    if asset is None or not ctx.principal.sees(asset.commune_code):
        raise NotFound(f"asset {asset_id!r} not found")
    return asset


async def get_asset(ctx: Context, asset_id: str) -> AssetOut:
    """One asset in scope."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        return to_out(await _get_in_scope(session, ctx, asset_id))


def new_row(item: AssetCreate, commune: str) -> dict[str, Any]:
    """The table row of a validated asset in ``commune``."""
    now = utcnow()
    return {
        "id": item.id,
        "type": item.type,
        "name": item.name,
        "commune_code": commune,
        "lon": item.location.coordinates[0],
        "lat": item.location.coordinates[1],
        "parent_id": item.parent_id,
        "status": item.status.value,
        "attributes": item.attributes,
        "manufacturer": item.manufacturer,
        "model": item.model,
        "installed_on": item.installed_on,
        "tags": item.tags,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


async def create_asset(ctx: Context, item: AssetCreate) -> AssetOut:
    """Register one asset; an id already taken is a conflict."""
    ctx.principal.require(Permission.ASSET_WRITE)
    async with ctx.db.write() as session:
        existing = await known_assets(session, [item.id])
        if existing:
            raise Conflict(f"asset id {item.id!r} is taken")
        parents = await known_assets(session, [item.parent_id] if item.parent_id else [])
        code, errors = check_asset(
            item,
            principal=ctx.principal,
            communes=await CommuneIndex.load(session),
            parents=parents,
            existing=None,
        )
        if errors or code is None:
            raise InvalidInput(errors)
        await session.execute(insert(Asset), [new_row(item, code)])
        await audit.record(
            session,
            ctx.principal,
            "asset.create",
            target_type="asset",
            target_id=item.id,
            commune=code,
            details={"type": item.type},
        )
        asset = await _get_in_scope(session, ctx, item.id)
    return to_out(asset)


async def update_asset(ctx: Context, asset_id: str, changes: AssetUpdate) -> AssetOut:
    """Change an asset. Moving it to another commune needs scope over both."""
    ctx.principal.require(Permission.ASSET_WRITE)
    async with ctx.db.write() as session:
        asset = await _get_in_scope(session, ctx, asset_id, lock=True)
        ctx.principal.require_commune(asset.commune_code)
        if changes.version is not None and changes.version != asset.version:
            raise Conflict(
                f"asset {asset_id!r} is at version {asset.version}, not {changes.version}",
                current_version=asset.version,
            )
        if asset.status == AssetStatus.DECOMMISSIONED and changes.status is None:
            raise Conflict(f"asset {asset_id!r} is decommissioned; set a status to revive it")
        if changes.status == AssetStatus.DECOMMISSIONED:
            raise InvalidInput(
                FieldError("status", "use the decommission action, which takes a reason")
            )
        merged = AssetCreate(
            id=asset.id,
            type=asset.type,
            name=changes.name or asset.name,
            commune=changes.commune or asset.commune_code,
            location=changes.location or Point(coordinates=(asset.lon, asset.lat)),
            parent_id=None if changes.clear_parent else (changes.parent_id or asset.parent_id),
            status=changes.status or AssetStatus(asset.status),
            attributes=asset.attributes if changes.attributes is None else changes.attributes,
            manufacturer=changes.manufacturer
            if changes.manufacturer is not None
            else asset.manufacturer,
            model=changes.model if changes.model is not None else asset.model,
            installed_on=changes.installed_on or asset.installed_on,
            tags=asset.tags if changes.tags is None else changes.tags,
        )
        parents = await known_assets(session, [merged.parent_id] if merged.parent_id else [])
        code, errors = check_asset(
            merged,
            principal=ctx.principal,
            communes=await CommuneIndex.load(session),
            parents=parents,
            existing=Known(asset.type, asset.commune_code),
        )
        if errors or code is None:
            raise InvalidInput(errors)
        before = to_out(asset).model_dump(mode="json", exclude={"created_at", "updated_at"})
        row = new_row(merged, code)
        del row["id"], row["created_at"]
        row["version"] = asset.version + 1
        for key, value in row.items():
            setattr(asset, key, value)
        after = to_out(asset).model_dump(mode="json", exclude={"created_at", "updated_at"})
        changed = {
            k: {"from": before[k], "to": after[k]} for k in after if before.get(k) != after[k]
        }
        await audit.record(
            session,
            ctx.principal,
            "asset.update",
            target_type="asset",
            target_id=asset_id,
            commune=code,
            details={"changes": changed},
        )
    return to_out(asset)


async def decommission_asset(ctx: Context, asset_id: str, reason: str) -> AssetOut:
    """Retire an asset for good. One that still parents live equipment cannot be retired."""
    ctx.principal.require(Permission.ASSET_WRITE)
    async with ctx.db.write() as session:
        asset = await _get_in_scope(session, ctx, asset_id, lock=True)
        ctx.principal.require_commune(asset.commune_code)
        if asset.status == AssetStatus.DECOMMISSIONED:
            raise Conflict(f"asset {asset_id!r} is already decommissioned")
        child = await session.execute(
            select(Asset.id)
            .where(Asset.parent_id == asset_id, Asset.status != AssetStatus.DECOMMISSIONED.value)
            .limit(1)
        )
        if child.first() is not None:
            raise Conflict(
                f"asset {asset_id!r} still parents equipment in service; "
                "move or decommission its children first"
            )
        previous = asset.status
        asset.status = AssetStatus.DECOMMISSIONED.value
        asset.version += 1
        asset.updated_at = utcnow()
        await audit.record(
            session,
            ctx.principal,
            "asset.decommission",
            target_type="asset",
            target_id=asset_id,
            commune=asset.commune_code,
            reason=reason,
            details={"previous_status": previous},
        )
    return to_out(asset)
