"""Use cases that change the equipment registry: create, update, decommission (reading is
:mod:`beffroi.assets.reading`, imports :mod:`beffroi.assets.importing`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from beffroi.assets.filters import AssetFilter, BBox
from beffroi.assets.lifecycle import AssetStatus
from beffroi.assets.models import Asset
from beffroi.assets.reading import AssetRef, asset_refs, get_asset, get_in_scope, ref_in
from beffroi.assets.schemas import AssetCreate, AssetOut, AssetUpdate, Point
from beffroi.assets.validation import CommuneIndex, Known, check_asset, known_assets
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change

# Other areas import these from here, where they were before reading had its own module.
__all__ = ["AssetFilter", "AssetRef", "BBox", "asset_refs", "get_asset", "ref_in"]


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
    async with change(ctx, "asset.create", target_type="asset", target_id=item.id) as uc:
        ctx.principal.require(Permission.ASSET_WRITE)
        existing = await known_assets(uc.session, [item.id])
        if existing:
            raise Conflict(f"asset id {item.id!r} is taken")
        parents = await known_assets(uc.session, [item.parent_id] if item.parent_id else [])
        code, errors = check_asset(
            item,
            principal=ctx.principal,
            communes=await CommuneIndex.load(uc.session),
            parents=parents,
            existing=None,
        )
        if errors or code is None:
            raise InvalidInput(errors)
        await uc.session.execute(insert(Asset), [new_row(item, code)])
        uc.audit(commune=code, details={"type": item.type})
        asset = await get_in_scope(uc.session, ctx, item.id)
    return AssetOut.model_validate(asset)


async def update_asset(ctx: Context, asset_id: str, changes: AssetUpdate) -> AssetOut:
    """Change an asset. Moving it to another commune needs scope over both."""
    async with change(ctx, "asset.update", target_type="asset", target_id=asset_id) as uc:
        ctx.principal.require(Permission.ASSET_WRITE)
        asset = await get_in_scope(uc.session, ctx, asset_id, lock=True)
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
        parents = await known_assets(uc.session, [merged.parent_id] if merged.parent_id else [])
        code, errors = check_asset(
            merged,
            principal=ctx.principal,
            communes=await CommuneIndex.load(uc.session),
            parents=parents,
            existing=Known(asset.type, asset.commune_code),
        )
        if errors or code is None:
            raise InvalidInput(errors)
        before = AssetOut.model_validate(asset).model_dump(
            mode="json", exclude={"created_at", "updated_at"}
        )
        row = new_row(merged, code)
        del row["id"], row["created_at"]
        row["version"] = asset.version + 1
        for key, value in row.items():
            setattr(asset, key, value)
        after = AssetOut.model_validate(asset).model_dump(
            mode="json", exclude={"created_at", "updated_at"}
        )
        changed = {
            k: {"from": before[k], "to": after[k]} for k in after if before.get(k) != after[k]
        }
        uc.audit(commune=code, details={"changes": changed})
    return AssetOut.model_validate(asset)


async def decommission_asset(ctx: Context, asset_id: str, reason: str) -> AssetOut:
    """Retire an asset for good. One that still parents live equipment cannot be retired."""
    async with change(ctx, "asset.decommission", target_type="asset", target_id=asset_id) as uc:
        ctx.principal.require(Permission.ASSET_WRITE)
        asset = await get_in_scope(uc.session, ctx, asset_id, lock=True)
        ctx.principal.require_commune(asset.commune_code)
        if asset.status == AssetStatus.DECOMMISSIONED:
            raise Conflict(f"asset {asset_id!r} is already decommissioned")
        child = await uc.session.execute(
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
        uc.audit(commune=asset.commune_code, reason=reason, details={"previous_status": previous})
    return AssetOut.model_validate(asset)
