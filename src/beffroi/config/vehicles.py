"""Settings of the vehicles area (docs/vehicles.md): how long tracks are kept, when a
position is fresh enough to dispatch a crew on, and how close a salting truck must pass.

A mixin of :class:`beffroi.config.Settings`, flat like the others: ``BEFFROI_VEHICLES_*``.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class VehiclesSettings(BaseSettings):
    """Tracks' retention, positions' freshness, the salting tolerance."""

    vehicles_track_days: int = Field(
        default=30,
        ge=1,
        le=3660,
        description="How long the vehicles' tracks are kept (days); the latest position "
        "of each vehicle is kept whatever its age",
    )
    vehicles_fresh_s: int = Field(
        default=300,
        ge=10,
        le=86_400,
        description="A crew is proposed for an intervention only if its vehicle reported "
        "its position within this many seconds",
    )
    vehicles_salting_tolerance_m: float = Field(
        default=25.0,
        gt=0,
        le=500,
        description="A stretch of salting route counts as salted when a salting truck's "
        "track passed within this distance (metres)",
    )
