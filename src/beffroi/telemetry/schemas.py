"""API shapes of telemetry."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PointOut(BaseModel):
    """One stored value."""

    ts: datetime
    value: float | str | None


class SeriesOut(BaseModel):
    """Raw values of one key."""

    asset_id: str
    key: str
    points: list[PointOut]


class BucketOut(BaseModel):
    """Aggregates of one window."""

    start: datetime
    count: int
    min: float
    max: float
    avg: float
    sum: float


class AggregateOut(BaseModel):
    """Windows of one key."""

    asset_id: str
    key: str
    bucket: str
    buckets: list[BucketOut]


class StateOut(BaseModel):
    """What is known now of an asset."""

    asset_id: str
    online: bool | None
    since: datetime | None
    reason: str | None
    last_seen_at: datetime | None
    firmware: str | None
    values: dict[str, PointOut]


class LatestPage(BaseModel):
    """States of a page of assets; pass ``next_cursor`` back as ``cursor``."""

    items: list[StateOut]
    next_cursor: str | None


class IngestOut(BaseModel):
    """What an HTTP ingest stored."""

    points: int


class RejectedOut(BaseModel):
    """A rejected message kept for inspection."""

    model_config = ConfigDict(from_attributes=True)

    received_at: datetime
    reason: str
    topic: str
    asset_id: str | None = Field(description="The device the topic named, if any")
    detail: str
    payload: str = Field(description="The start of the payload, in payload_encoding")
    payload_encoding: Literal["utf-8", "base64"] = Field(
        description="utf-8: the payload as text; base64: it was not UTF-8"
    )
    payload_size: int = Field(description="The whole payload's size in bytes")


class RejectionsOut(BaseModel):
    """Counts by reason over the period, and the most recent rejects."""

    hours: int
    counts: dict[str, int]
    recent: list[RejectedOut]
