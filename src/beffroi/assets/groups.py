"""Use cases of asset groups: named sets of equipment, by list or by polygon."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shapely import contains_xy
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets.lifecycle import AssetStatus
from beffroi.assets.models import Asset, AssetGroup, AssetGroupMember, GroupKind
from beffroi.assets.schemas import GroupCreate, GroupOut, GroupUpdate, PolygonGeometry
from beffroi.assets.validation import CHUNK, known_assets
from beffroi.catalogue.visibility import in_view, type_clause
from beffroi.communes.service import resolve
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.db import Derived

TARGET = "group"


def polygon_shape(
    geometry: PolygonGeometry | dict[str, Any], field: str = "polygon"
) -> BaseGeometry:
    """A valid shapely (Multi)Polygon from GeoJSON, or an error naming ``field``."""
    data = geometry.model_dump() if isinstance(geometry, PolygonGeometry) else geometry
    try:
        polygon = shape(data)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise InvalidInput(FieldError(field, f"not a GeoJSON polygon: {exc}")) from None
    if polygon.geom_type not in {"Polygon", "MultiPolygon"} or polygon.is_empty:
        raise InvalidInput(FieldError(field, "expected a non-empty Polygon or MultiPolygon"))
    if not polygon.is_valid:
        raise InvalidInput(FieldError(field, "the polygon is invalid (self-intersecting?)"))
    min_lon, min_lat, max_lon, max_lat = polygon.bounds
    if not (min_lon >= -180 and max_lon <= 180 and min_lat >= -90 and max_lat <= 90):
        raise InvalidInput(FieldError(field, "coordinates must be WGS84 (lon, lat)"))
    return polygon


async def ids_in_polygon(
    session: AsyncSession,
    ctx: Context,
    polygon: BaseGeometry,
    commune: str | None = None,
    types: Sequence[str] = (),
) -> list[str]:
    """Ids of the assets in scope inside ``polygon``: bbox in SQL, exact test in shapely."""
    min_lon, min_lat, max_lon, max_lat = polygon.bounds
    stmt = select(Asset.id, Asset.lon, Asset.lat).where(
        ctx.principal.scope_clause(Asset.commune_code),
        type_clause(ctx.principal, Asset.type),
        Asset.status != AssetStatus.DECOMMISSIONED.value,
        Asset.lon.between(min_lon, max_lon),
        Asset.lat.between(min_lat, max_lat),
    )
    if commune:
        stmt = stmt.where(Asset.commune_code == commune)
    if types:
        stmt = stmt.where(Asset.type.in_(list(types)))
    rows = (await session.execute(stmt.order_by(Asset.id))).all()
    if not rows:
        return []
    inside = contains_xy(polygon, [r.lon for r in rows], [r.lat for r in rows])
    return [row.id for row, hit in zip(rows, inside, strict=True) if hit]


async def _load(session: AsyncSession, ctx: Context, group_id: int) -> AssetGroup:
    group = await session.get(AssetGroup, group_id)
    if group is None or not ctx.principal.sees(group.commune_code):
        raise NotFound(f"group {group_id} not found")
    return group


async def member_ids(session: AsyncSession, ctx: Context, group: AssetGroup) -> list[str]:
    """The ids of a group's members that the caller may see."""
    if group.kind == GroupKind.POLYGON:
        assert group.polygon is not None
        return await ids_in_polygon(session, ctx, polygon_shape(group.polygon), group.commune_code)
    stmt = (
        select(AssetGroupMember.asset_id)
        .join(Asset, Asset.id == AssetGroupMember.asset_id)
        .where(
            AssetGroupMember.group_id == group.id,
            ctx.principal.scope_clause(Asset.commune_code),
            type_clause(ctx.principal, Asset.type),
        )
        .order_by(AssetGroupMember.asset_id)
    )
    return list((await session.execute(stmt)).scalars())


async def _out(session: AsyncSession, ctx: Context, group: AssetGroup) -> GroupOut:
    """The API shape of a group, with how many of its members the caller sees."""
    count = len(await member_ids(session, ctx, group))
    return GroupOut.model_validate(Derived(group, member_count=count))


async def _check_members(
    session: AsyncSession, ctx: Context, ids: Sequence[str], commune: str | None, field: str
) -> None:
    known = await known_assets(session, ids)
    errors = []
    for index, asset_id in enumerate(ids):
        asset = known.get(asset_id)
        if asset is None or not in_view(ctx.principal, asset.commune, asset.type):
            errors.append(FieldError(f"{field}[{index}]", f"unknown asset {asset_id!r}"))
        elif commune is not None and asset.commune != commune:
            errors.append(
                FieldError(f"{field}[{index}]", f"asset {asset_id!r} is not in commune {commune!r}")
            )
    if errors:
        raise InvalidInput(errors)


async def _flush_named(session: AsyncSession, name: str | None) -> None:
    """Flush a new or renamed group; a name another group holds is a conflict."""
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"a group named {name!r} exists") from None


async def _add_members(session: AsyncSession, group_id: int, ids: Sequence[str]) -> None:
    rows = [{"group_id": group_id, "asset_id": i} for i in sorted(set(ids))]
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(AssetGroupMember), rows[start : start + CHUNK])


async def create_group(ctx: Context, data: GroupCreate) -> GroupOut:
    """Create a group. A group of one commune only holds that commune's equipment."""
    # Until it has an id, a refused group is named by its name.
    async with change(
        ctx, "group.create", target_type=TARGET, refused_details={"name": data.name}
    ) as uc:
        ctx.principal.require(Permission.GROUP_WRITE)
        session = uc.session
        commune = (await resolve(session, data.commune)).code if data.commune else None
        ctx.principal.require_commune(commune)
        if data.kind == GroupKind.POLYGON:
            if data.polygon is None:
                raise InvalidInput(FieldError("polygon", "required for a polygon group"))
            if data.asset_ids:
                raise InvalidInput(FieldError("asset_ids", "a polygon group takes no list"))
            polygon_shape(data.polygon)
        elif data.polygon is not None:
            raise InvalidInput(FieldError("polygon", "a list group takes no polygon"))
        await _check_members(session, ctx, data.asset_ids, commune, "asset_ids")
        group = AssetGroup(
            name=data.name,
            description=data.description,
            commune_code=commune,
            kind=data.kind.value,
            polygon=data.polygon.model_dump() if data.polygon else None,
            created_by=ctx.principal.name,
        )
        session.add(group)
        await _flush_named(session, data.name)
        await _add_members(session, group.id, data.asset_ids)
        uc.audit(
            target_id=group.id,
            commune=commune,
            details={"name": data.name, "kind": data.kind.value, "members": len(data.asset_ids)},
        )
        out = await _out(session, ctx, group)
    return out


async def list_groups(ctx: Context) -> list[GroupOut]:
    """Groups in the caller's scope (metropolis-wide ones only for metropolis-wide users)."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        stmt = (
            select(AssetGroup)
            .where(ctx.principal.scope_clause(AssetGroup.commune_code))
            .order_by(AssetGroup.name)
        )
        groups = (await session.execute(stmt)).scalars().all()
        return [await _out(session, ctx, g) for g in groups]


async def get_group(ctx: Context, group_id: int) -> GroupOut:
    """One group in scope."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        return await _out(session, ctx, await _load(session, ctx, group_id))


async def group_member_ids(ctx: Context, group_id: int) -> list[str]:
    """Ids of a group's members in scope (what a group command will target)."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        return await member_ids(session, ctx, await _load(session, ctx, group_id))


async def update_group(ctx: Context, group_id: int, changes: GroupUpdate) -> GroupOut:
    """Rename, describe, add or remove members, or move the polygon."""
    async with change(ctx, "group.update", target_type=TARGET, target_id=group_id) as uc:
        ctx.principal.require(Permission.GROUP_WRITE)
        session = uc.session
        group = await _load(session, ctx, group_id)
        ctx.principal.require_commune(group.commune_code)
        if group.kind == GroupKind.POLYGON and (changes.add or changes.remove):
            raise InvalidInput(FieldError("add", "a polygon group has no member list"))
        if group.kind == GroupKind.LIST and changes.polygon is not None:
            raise InvalidInput(FieldError("polygon", "a list group has no polygon"))
        if changes.name is not None:
            group.name = changes.name
        if changes.description is not None:
            group.description = changes.description
        if changes.polygon is not None:
            polygon_shape(changes.polygon)
            group.polygon = changes.polygon.model_dump()
        if changes.add:
            await _check_members(session, ctx, changes.add, group.commune_code, "add")
            present = set(
                (
                    await session.execute(
                        select(AssetGroupMember.asset_id).where(
                            AssetGroupMember.group_id == group.id
                        )
                    )
                ).scalars()
            )
            await _add_members(session, group.id, [i for i in changes.add if i not in present])
        # Only members the caller sees can be removed: a hidden one (another commune's,
        # a camera) is left as it is, as an id that is no member would be.
        known = await known_assets(session, changes.remove)
        removable = [
            i
            for i in changes.remove
            if i in known and in_view(ctx.principal, known[i].commune, known[i].type)
        ]
        for start in range(0, len(removable), CHUNK):
            await session.execute(
                delete(AssetGroupMember).where(
                    AssetGroupMember.group_id == group.id,
                    AssetGroupMember.asset_id.in_(removable[start : start + CHUNK]),
                )
            )
        group.updated_at = utcnow()
        await _flush_named(session, changes.name)
        uc.audit(
            commune=group.commune_code,
            details=changes.model_dump(mode="json", exclude_defaults=True),
        )
        out = await _out(session, ctx, group)
    return out


async def delete_group(ctx: Context, group_id: int) -> None:
    """Delete a group (never its assets)."""
    async with change(ctx, "group.delete", target_type=TARGET, target_id=group_id) as uc:
        ctx.principal.require(Permission.GROUP_WRITE)
        group = await _load(uc.session, ctx, group_id)
        ctx.principal.require_commune(group.commune_code)
        await uc.session.delete(group)
        uc.audit(commune=group.commune_code, details={"name": group.name})
