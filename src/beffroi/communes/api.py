"""Routes of communes."""

from __future__ import annotations

from fastapi import APIRouter, status

from beffroi.communes import service
from beffroi.communes.schemas import CommuneIn, CommuneOut
from beffroi.http.deps import Ctx

router = APIRouter(prefix="/communes", tags=["communes"])


@router.get("")
async def list_communes(ctx: Ctx) -> list[CommuneOut]:
    """The communes in your scope."""
    return [CommuneOut.model_validate(c) for c in await service.list_communes(ctx)]


@router.get("/{ref}")
async def get_commune(ctx: Ctx, ref: str) -> CommuneOut:
    """One commune, by code or name."""
    return CommuneOut.model_validate(await service.get_commune(ctx, ref))


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_commune(ctx: Ctx, body: CommuneIn) -> CommuneOut:
    """Add a commune (metropolis-wide administrators)."""
    return CommuneOut.model_validate(await service.create_commune(ctx, body))


@router.put("")
async def import_communes(ctx: Ctx, body: list[CommuneIn]) -> dict[str, int]:
    """Create or update many communes by code, all or nothing."""
    return {"written": await service.import_communes(ctx, body)}
