"""Routes of the equipment catalogue."""

from __future__ import annotations

from fastapi import APIRouter

from beffroi.catalogue.reading import readable_type, readable_types
from beffroi.catalogue.schemas import EquipmentTypeOut
from beffroi.http.deps import Ctx

router = APIRouter(prefix="/types", tags=["catalogue"])


@router.get("")
async def list_types(ctx: Ctx) -> list[EquipmentTypeOut]:
    """Every equipment type: attributes, telemetry, faults and commands."""
    return [EquipmentTypeOut.of(spec) for spec in readable_types(ctx.principal)]


@router.get("/{key}")
async def get_type(ctx: Ctx, key: str) -> EquipmentTypeOut:
    """One equipment type."""
    return EquipmentTypeOut.of(readable_type(ctx.principal, key))
