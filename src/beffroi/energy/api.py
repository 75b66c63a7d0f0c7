"""Routes of the energy area."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from beffroi.core.dates import Day
from beffroi.energy import service
from beffroi.energy.schemas import LightingEnergy
from beffroi.http.deps import Ctx

router = APIRouter(prefix="/energy", tags=["energy"])


@router.get("/lighting")
async def lighting_energy(
    ctx: Ctx, day: Annotated[Day | None, Query(description="Local day; default today")] = None
) -> LightingEnergy:
    """A day's lighting energy so far in your scope, against the same weekday a year earlier
    and against every light at full power while it was dark."""
    return await service.lighting_energy(ctx, day)
