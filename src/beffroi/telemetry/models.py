"""What devices report: time series, latest values, connectivity, fault events, rejects.

``telemetry_points`` is append-only and, on PostgreSQL, partitioned by day (see the
migration and :mod:`beffroi.telemetry.partitions`), so retention drops whole partitions.
Its primary key makes a redelivered message store nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.db import Base, BigId, JSONType, UTCDateTime


class TelemetryPoint(Base):
    """One reported value. Booleans are stored as 0/1, enums and text in ``text``."""

    __tablename__ = "telemetry_points"
    __table_args__ = {"postgresql_partition_by": "RANGE (ts)"}  # noqa: RUF012 - SQLAlchemy idiom

    asset_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)


class TelemetryRollup(Base):
    """Hourly aggregates of numeric values, kept long after the raw points are gone."""

    __tablename__ = "telemetry_rollups"
    # The energy area reads one key of every asset over a range of hours (daily totals).
    __table_args__ = (Index("ix_telemetry_rollups_key_bucket", "key", "bucket"),)

    asset_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    sum: Mapped[float] = mapped_column(Float)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)


class LatestValue(Base):
    """The newest value of each key of each asset, decided by timestamp, not arrival."""

    __tablename__ = "latest_values"
    # Every reading rewrites its row: room left in each page lets PostgreSQL write the new
    # version beside the old one without touching the index (a HOT update), half the cost.
    __table_args__ = {"postgresql_with": {"fillfactor": 50}}  # noqa: RUF012 - SQLAlchemy idiom

    asset_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    value: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)


class DeviceStatus(Base):
    """Connectivity of a device: what it said (status, will) or its silence implied."""

    __tablename__ = "device_status"

    asset_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    online: Mapped[bool] = mapped_column(Boolean)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(16))
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    firmware: Mapped[str | None] = mapped_column(String(100))
    # The field gateway the device last announced itself through; commands go that way.
    via: Mapped[str | None] = mapped_column(String(64))
    # The bulk-form version a field gateway announced (docs/device-api.md): commands for
    # two or more of its children go in one message when the hub speaks that version.
    bulk: Mapped[int | None] = mapped_column(Integer)


class DeviceEvent(Base):
    """A fault event as the device sent it (raised or cleared)."""

    __tablename__ = "device_events"
    # The same event delivered twice is stored once.
    __table_args__ = (
        UniqueConstraint("asset_id", "ts", "code", "active", name="uq_device_events_delivery"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    asset_id: Mapped[str] = mapped_column(String(64))
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    code: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RejectedMessage(Base):
    """A recent message that broke the device API contract, kept for inspection."""

    __tablename__ = "rejected_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[str] = mapped_column(String(32), index=True)
    topic: Mapped[str] = mapped_column(String(300))
    # The device the message claimed to come from (from its topic), when it named one.
    asset_id: Mapped[str | None] = mapped_column(String(64), index=True)
    detail: Mapped[str] = mapped_column(String(500))
    # The start of the payload: as text when it is UTF-8, else base64 (``payload_encoding``).
    payload: Mapped[str] = mapped_column(String(600))
    payload_encoding: Mapped[str] = mapped_column(
        String(8), default="utf-8", server_default="utf-8"
    )
    payload_size: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RejectionCount(Base):
    """Rejected messages counted by reason and hour, across every gateway process."""

    __tablename__ = "rejection_counts"

    reason: Mapped[str] = mapped_column(String(32), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(BigId)
