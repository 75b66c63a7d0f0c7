"""Settings of the citizen reports area (docs/reports.md): merging duplicates, the public
side's rates and keys, the photos, and how long personal data is kept.

A mixin of :class:`beffroi.config.Settings`, flat like every setting (``BEFFROI_REPORTS_*``).
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

# "name=key" pairs: the name is what the audit log and the reports say, never the key.
_PAIR = r"[a-z0-9_.-]{1,40}=[A-Za-z0-9_-]{16,200}"
_API_KEYS = re.compile(rf"^{_PAIR}(,{_PAIR})*$")


class ReportsSettings(BaseSettings):
    """Citizen reports: duplicates, rates, api keys, photos, retention of personal data."""

    reports_merge_distance_m: float = Field(
        default=50,
        ge=0,
        le=5000,
        description="A report joins an open intervention of its category this close (metres)",
    )
    reports_merge_window_h: float = Field(
        default=168,
        ge=0,
        le=24 * 365,
        description="... opened at most this many hours before the report",
    )
    reports_commune_radius_km: float = Field(
        default=8,
        gt=0,
        le=100,
        description="A position further than this from every commune's centre is outside "
        "the metropolis and refused",
    )
    reports_purge_after_days: int = Field(
        default=365,
        ge=1,
        le=3650,
        description="Personal data of a report (name, contact, photo) is deleted this many "
        "days after its intervention is resolved, closed or cancelled",
    )
    reports_rate_read: str = Field(
        default="120/minute",
        pattern=r"^\d{1,6}/(second|minute|hour|day)$",
        description="Public Open311 reads allowed per client (limits notation)",
    )
    reports_rate_post: str = Field(
        default="10/hour",
        pattern=r"^\d{1,6}/(second|minute|hour|day)$",
        description="Public reports a client may post (limits notation)",
    )
    reports_photo_max_bytes: int = Field(
        default=8_000_000, ge=10_000, le=50_000_000, description="Largest photo accepted"
    )
    reports_api_keys: str = Field(
        default="",
        max_length=5000,
        description="Open311 api_key of known clients as 'name=key' pairs, comma-separated; "
        "a report may come without a key, never with an unknown one",
    )
    reports_agency: str = Field(
        default="Dijon métropole",
        min_length=1,
        max_length=200,
        description="The agency_responsible named in Open311 answers",
    )

    @field_validator("reports_api_keys")
    @classmethod
    def _api_keys(cls, value: str) -> str:
        if value and not _API_KEYS.match(value):
            raise ValueError("expected name=key pairs, comma-separated (keys of 16+ characters)")
        return value

    def reports_api_key_names(self) -> dict[str, str]:
        """Each configured api key and the client name it stands for."""
        pairs = (item.split("=", 1) for item in self.reports_api_keys.split(",") if item)
        return {key: name for name, key in pairs}
