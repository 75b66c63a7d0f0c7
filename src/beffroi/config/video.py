"""Settings of the video-protection area (docs/video.md): the video management system
(VMS) Beffroi steers, view sessions, the reasons an agent may give, retention.

A mixin of :class:`beffroi.config.Settings`, flat like the others: ``BEFFROI_VMS_*`` for
the VMS adapter, ``BEFFROI_VIDEO_*`` for the area's rules.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

DEFAULT_REASONS = (
    "incident en cours",
    "levée de doute sur alarme",
    "réquisition judiciaire",
    "sécurité d'une manifestation",
    "régulation de la circulation",
    "recherche de personne",
)


class VideoSettings(BaseSettings):
    """Video-protection: the VMS adapter, sessions, reasons, retention."""

    vms_kind: Literal["simulated"] = Field(
        default="simulated",
        description="Which video management system the adapter talks to; 'simulated' is "
        "an in-process VMS for the demo and tests (a real one is reached through a bridge)",
    )
    vms_base_url: str = Field(
        default="https://vms.invalid",
        max_length=500,
        pattern=r"^https?://[^\s?#]+$",
        description="Base URL of the VMS's streams, which stream URLs are signed under",
    )
    vms_signing_key: str = Field(
        default="",
        max_length=500,
        description="Key the stream URLs are signed with (HMAC-SHA256), shared with the "
        "VMS; empty derives one from the secret key",
    )
    vms_url_ttl_s: int = Field(
        default=120, ge=10, le=3600, description="Lifetime of a signed stream URL (seconds)"
    )
    vms_history_days: int = Field(
        default=45,
        ge=1,
        le=400,
        description="Simulated VMS: how many days of footage each camera holds when it starts",
    )
    video_session_max_s: int = Field(
        default=3600,
        ge=60,
        le=12 * 3600,
        description="A view session ends by itself after this long (seconds)",
    )
    video_reasons: str = Field(
        default="|".join(DEFAULT_REASONS),
        min_length=1,
        max_length=4000,
        description="The reasons an agent picks from to open a view session, separated by '|'",
    )
    video_retention_days: int = Field(
        default=30,
        ge=1,
        le=30,
        description="Footage kept by default, in days, when a camera has no authorised "
        "period of its own (the law allows 30 at most)",
    )
    video_register_keep_days: int = Field(
        default=3 * 366,
        ge=365,
        le=20 * 366,
        description="How long register entries are kept before the purge (three years)",
    )

    @field_validator("video_reasons")
    @classmethod
    def _reasons(cls, value: str) -> str:
        if not [r for r in value.split("|") if r.strip()]:
            raise ValueError("at least one reason is needed")
        return value

    @property
    def video_reason_list(self) -> tuple[str, ...]:
        """The reasons an agent may pick, in their configured order."""
        return tuple(r.strip() for r in self.video_reasons.split("|") if r.strip())
