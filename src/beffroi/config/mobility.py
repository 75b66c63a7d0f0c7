"""Settings of the mobility area (docs/mobility.md): the transit operator's GTFS-Realtime
vehicle positions feed that bus priority reads, and how priority requests are judged.

A mixin of :class:`beffroi.config.Settings`, flat like the others: ``BEFFROI_MOBILITY_*``.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class MobilitySettings(BaseSettings):
    """Bus priority: the vehicle positions feed, its polling, deduplication, estimates."""

    mobility_feed_url: str = Field(
        default="",
        max_length=500,
        pattern=r"^(https?://[^\s]+)?$",
        description="URL of the transit operator's GTFS-Realtime VehiclePositions feed; "
        "empty turns bus priority off",
    )
    mobility_poll_s: int = Field(
        default=5,
        ge=5,
        le=300,
        description="How often the feed is read (seconds; the scheduler looks every 5 s)",
    )
    mobility_feed_timeout_s: float = Field(
        default=3.0, gt=0, le=60, description="How long one read of the feed may take (seconds)"
    )
    mobility_max_age_s: int = Field(
        default=60,
        ge=5,
        le=3600,
        description="A vehicle position older than this (by its own timestamp) is ignored: "
        "a request for a bus long gone would only disturb the intersection",
    )
    mobility_pass_s: int = Field(
        default=600,
        ge=30,
        le=7200,
        description="A vehicle without a trip id asks once per approach within this window "
        "(seconds); with a trip id, once per trip and approach",
    )
    mobility_saved_s: float = Field(
        default=12.0,
        ge=0,
        le=120,
        description="Seconds of delay a granted priority request saves a bus on average "
        "(the estimate docs/mobility.md explains); 0 reports no estimate",
    )
    mobility_counts_6min_days: int = Field(
        default=35,
        ge=1,
        le=3660,
        description="How long 6-minute traffic counts are kept (days)",
    )
    mobility_counts_hourly_days: int = Field(
        default=800,
        ge=1,
        le=3660,
        description="How long hourly traffic counts are kept (days)",
    )
