"""Settings of the lighting energy area (docs/energy.md): the tariff, the emission factor,
the target.

A mixin of :class:`beffroi.config.Settings`: each area's settings live in a module of their
own and stay flat (``BEFFROI_ENERGY_*``), so the environment variables keep their names.
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

from beffroi.config.checks import offpeak_hours


class EnergySettings(BaseSettings):
    """Lighting energy: tariff, emission factor, savings target, replacement threshold."""

    energy_peak_eur_per_kwh: float = Field(
        default=0.2, ge=0, le=10, description="Price of a peak-hours kWh, taxes included"
    )
    energy_offpeak_eur_per_kwh: float = Field(
        default=0.15, ge=0, le=10, description="Price of an off-peak kWh, taxes included"
    )
    energy_offpeak_hours: str = Field(
        default="22-6",
        pattern=r"^\d{1,2}-\d{1,2}(,\d{1,2}-\d{1,2})*$",
        description="Off-peak local hours as whole-hour ranges, start included, end "
        "excluded, e.g. '22-6' or '1-7,12-14'; a range may cross midnight",
    )
    energy_co2_g_per_kwh: float = Field(
        default=52, ge=0, le=2000, description="Emission factor of a kWh (France: about 52 g)"
    )
    energy_savings_target: float = Field(
        default=0.65,
        gt=0,
        lt=1,
        description="Share of the pre-renovation consumption to save (0.65: 65 %)",
    )
    energy_replacement_share: float = Field(
        default=0.9,
        gt=0,
        le=2,
        description="A lamp is due for replacement at this share of its rated life",
    )

    @field_validator("energy_offpeak_hours")
    @classmethod
    def _offpeak_hours(cls, value: str) -> str:
        offpeak_hours(value)  # raises naming the wrong range
        return value
