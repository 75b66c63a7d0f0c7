"""Tables of the vehicles area: every position reported (the tracks, kept for a number of
days), the latest one per vehicle (one row each, fast to read), and the salting routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.db import Base, JSONType, UTCDateTime


class TrackPoint(Base):
    """A position a vehicle reported. Append-only; the retention job deletes old ones.

    The primary key (vehicle, time) makes a redelivered message change nothing."""

    __tablename__ = "vehicle_track"

    asset_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True, index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    speed_kmh: Mapped[float | None] = mapped_column(Float)
    heading_deg: Mapped[float | None] = mapped_column(Float)


class LatestPosition(Base):
    """The newest position of each vehicle (newest timestamp wins, as telemetry's)."""

    __tablename__ = "vehicle_positions"

    asset_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    speed_kmh: Mapped[float | None] = mapped_column(Float)
    heading_deg: Mapped[float | None] = mapped_column(Float)


class SaltingRoute(Base):
    """A route of the winter service: a line the salting trucks drive, in one or more
    communes, with its level (1: salted first)."""

    __tablename__ = "salting_routes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    communes: Mapped[list[str]] = mapped_column(JSONType)
    # A GeoJSON LineString in WGS84 (lon, lat).
    geometry: Mapped[dict[str, Any]] = mapped_column(JSONType)
    level: Mapped[int] = mapped_column(Integer)
    length_m: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
