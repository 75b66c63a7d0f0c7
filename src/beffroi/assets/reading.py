"""Reading the equipment registry: one asset, pages of assets, every asset (exports,
group command targets), and the fingerprint that lets the map's answer be cached."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets.filters import ORDER, AssetFilter, filtered
from beffroi.assets.models import Asset
from beffroi.assets.schemas import AssetOut
from beffroi.catalogue.visibility import in_view
from beffroi.core.context import Context
from beffroi.core.errors import NotFound
from beffroi.core.principal import Permission


async def list_assets(ctx: Context, f: AssetFilter) -> tuple[list[AssetOut], str | None]:
    """A page of assets in scope matching ``f``, by id, and the cursor of the next page."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        stmt = await filtered(ctx, session, select(Asset), f)
        page, cursor = await ORDER.page(session, stmt, cursor=f.cursor, limit=f.limit)
    return [AssetOut.model_validate(a) for a in page], cursor


async def scoped_asset_ids(ctx: Context, f: AssetFilter) -> tuple[list[str], str | None]:
    """Ids of a page of assets in scope matching ``f`` (for other areas' bulk reads)."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        stmt = await filtered(ctx, session, select(Asset.id), f)
        page, cursor = await ORDER.page(session, stmt, cursor=f.cursor, limit=f.limit)
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
            stmt = await filtered(ctx, session, columns, part)
            rows = await session.execute(stmt.order_by(Asset.id))
            out += [AssetRef(r.id, r.type, r.commune_code, r.status, r.parent_id) for r in rows]
    return out


async def fingerprint(ctx: Context, f: AssetFilter) -> str:
    """A value that changes whenever any asset matching ``f`` in scope changes: cheap
    enough to ask on every map load, so the whole-city GeoJSON can be cached."""
    ctx.principal.require(Permission.ASSET_READ)
    columns = (func.count(), func.coalesce(func.sum(Asset.version), 0), func.max(Asset.updated_at))
    async with ctx.db.read() as session:
        stmt = await filtered(ctx, session, select(*columns), f)
        if f.cursor:
            stmt = stmt.where(ORDER.after(ORDER.decode(f.cursor)))
        count, versions, latest = (await session.execute(stmt)).one()
    return f"{count}:{versions}:{latest.isoformat() if latest else '-'}"


async def pages(ctx: Context, f: AssetFilter, chunk: int = 5000) -> AsyncIterator[list[AssetOut]]:
    """Every asset matching ``f`` in scope, a page of ``chunk`` at a time (exports of the
    whole city): one page in memory, each read in a transaction of its own."""
    ctx.principal.require(Permission.ASSET_READ)
    cursor = f.cursor
    while True:
        async with ctx.db.read() as session:
            stmt = await filtered(ctx, session, select(Asset), f)
            page, cursor = await ORDER.page(session, stmt, cursor=cursor, limit=chunk)
        yield [AssetOut.model_validate(asset) for asset in page]
        if cursor is None:
            return


async def iter_assets(ctx: Context, f: AssetFilter, chunk: int = 5000) -> AsyncIterator[AssetOut]:
    """Every asset matching ``f`` in scope, one at a time (read a page at a time)."""
    async for page in pages(ctx, f, chunk):
        for asset in page:
            yield asset


async def get_in_scope(
    session: AsyncSession, ctx: Context, asset_id: str, *, lock: bool = False
) -> Asset:
    """The asset row ``asset_id``, locked if asked; one outside the caller's scope is as
    not found as one that does not exist."""
    stmt = select(Asset).where(Asset.id == asset_id)
    if lock:
        stmt = stmt.with_for_update()
    asset = (await session.execute(stmt)).scalar_one_or_none()
    if asset is None or not in_view(ctx.principal, asset.commune_code, asset.type):
        raise NotFound(f"asset {asset_id!r} not found")
    return asset


async def ref_in(session: AsyncSession, ctx: Context, asset_id: str) -> AssetRef:
    """The asset ``asset_id`` in scope, read in the caller's session: a use case under way
    holds SQLite's write lock, and a second session of its own would wait for a pooled
    connection that writers queued behind that lock hold (a deadlock until the timeout)."""
    ctx.principal.require(Permission.ASSET_READ)
    a = await get_in_scope(session, ctx, asset_id)
    return AssetRef(a.id, a.type, a.commune_code, a.status, a.parent_id)


async def get_asset(ctx: Context, asset_id: str) -> AssetOut:
    """One asset in scope."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        return AssetOut.model_validate(await get_in_scope(session, ctx, asset_id))
