"""What other areas read of the energy area: plain rows, never the tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.energy.models import EnergyDailyCommune


@dataclass(frozen=True, slots=True)
class CommuneDay:
    """The lighting energy of one commune on one local day."""

    commune_code: str
    day: date
    lights: int
    energy_wh: float
    offpeak_wh: float
    baseline_wh: float
    compared_wh: float
    burning_h: float


async def commune_days(session: AsyncSession, since: date) -> list[CommuneDay]:
    """Every commune's daily lighting energy from ``since`` on, by day and commune."""
    t = EnergyDailyCommune
    rows = await session.execute(
        select(
            t.commune_code,
            t.day,
            t.lights,
            t.energy_wh,
            t.offpeak_wh,
            t.baseline_wh,
            t.compared_wh,
            t.burning_h,
        )
        .where(t.day >= since)
        .order_by(t.day, t.commune_code)
    )
    return [CommuneDay(*row) for row in rows]
