"""Routes of the equipment catalogue."""

from __future__ import annotations

from fastapi import APIRouter

from beffroi.catalogue.registry import CATALOGUE
from beffroi.catalogue.schemas import EquipmentTypeOut
from beffroi.core.errors import NotFound
from beffroi.core.principal import Permission
from beffroi.http.deps import Ctx

router = APIRouter(prefix="/types", tags=["catalogue"])


@router.get("")
async def list_types(ctx: Ctx) -> list[EquipmentTypeOut]:
    """Every equipment type: attributes, telemetry, faults and commands."""
    ctx.principal.require(Permission.ASSET_READ)
    return [EquipmentTypeOut.of(spec) for spec in CATALOGUE.values()]


@router.get("/{key}")
async def get_type(ctx: Ctx, key: str) -> EquipmentTypeOut:
    """One equipment type."""
    ctx.principal.require(Permission.ASSET_READ)
    spec = CATALOGUE.get(key)
    if spec is None:
        raise NotFound(f"equipment type {key!r} not found")
    return EquipmentTypeOut.of(spec)
