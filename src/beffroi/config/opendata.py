"""Settings of the open data area (docs/opendata.md): where snapshots are kept, how many,
how far back, and the public API's limits.

A mixin of :class:`beffroi.config.Settings`, flat like every setting (``BEFFROI_OPENDATA_*``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings

RATE = r"^\d{1,7}/(second|minute|hour|day)$"


class OpendataSettings(BaseSettings):
    """Open data: the snapshot store, history, rate limits of the public API."""

    opendata_store: Literal["filesystem"] = Field(
        default="filesystem",
        description="Where snapshots are written: filesystem (under opendata_dir)",
    )
    opendata_dir: Path | None = Field(
        default=None, description="Folder of the snapshots; default <data_dir>/opendata"
    )
    opendata_keep: int = Field(
        default=5, ge=1, le=1000, description="Snapshots kept per dataset (the newest)"
    )
    opendata_history_days: int = Field(
        default=31, ge=1, le=3660, description="Days of history in the time-series datasets"
    )
    opendata_rate_limit: str = Field(
        default="120/minute",
        pattern=RATE,
        description="Requests per client address without an API key, e.g. 120/minute",
    )
    opendata_key_rate_limit: str = Field(
        default="1200/minute",
        pattern=RATE,
        description="Requests per API key (header 'Authorization: Apikey <key>')",
    )
    opendata_max_export_rows: int = Field(
        default=10_000_000, ge=1, description="Rows an export may hold at most"
    )
