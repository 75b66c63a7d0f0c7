"""Settings of the public side (no login): the open data portal and citizen reports.

A mixin of :class:`beffroi.config.Settings`, flat like every setting (``BEFFROI_*``).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class PublicSettings(BaseSettings):
    """Where the public side's rate-limit counters live."""

    rate_limit_storage: str = Field(
        default="memory://",
        pattern=r"^(memory|redis|rediss|redis\+sentinel|redis\+cluster)://",
        max_length=500,
        description="Rate-limit counters: memory:// (one process) or redis://host:6379 "
        "(shared by several web processes)",
    )
