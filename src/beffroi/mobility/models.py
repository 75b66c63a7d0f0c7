"""Tables of the mobility area: priority approaches, priority requests, traffic counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.core.time import utcnow
from beffroi.db import Base, JSONType, UTCDateTime


class PriorityApproach(Base):
    """One approach of a controller with bus priority: where a bus heading for the
    intersection asks for priority, for which lines, and the direction the request names.

    ``shape`` is ``line`` (``coordinates``: the approach's path, ending at the stop line)
    or ``sector`` (``coordinates``: one point, the stop line; a bus within ``radius_m``
    travelling on ``bearing_deg`` ± ``tolerance_deg`` is on the approach).
    """

    __tablename__ = "priority_approaches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    controller_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), index=True
    )
    # The controller's commune, copied: the scope filter needs no join.
    commune_code: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    direction: Mapped[str] = mapped_column(String(32))
    # The lines (GTFS route ids) served; empty: every line.
    lines: Mapped[list[str]] = mapped_column(JSONType)
    shape: Mapped[str] = mapped_column(String(16))
    coordinates: Mapped[list[list[float]]] = mapped_column(JSONType)
    radius_m: Mapped[float] = mapped_column(Float)
    bearing_deg: Mapped[float | None] = mapped_column(Float)
    tolerance_deg: Mapped[float] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PriorityRequest(Base):
    """One bus's request for priority on one approach, and what became of it.

    ``pass_key`` identifies the bus's pass (its trip, or a time window without one): the
    unique constraint makes a pass ask once, whichever poll or process sees it first.
    """

    __tablename__ = "priority_requests"
    __table_args__ = (
        UniqueConstraint("approach_id", "vehicle_id", "pass_key"),
        Index("ix_priority_requests_controller_id_requested_at", "controller_id", "requested_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    approach_id: Mapped[int] = mapped_column(
        ForeignKey("priority_approaches.id", ondelete="CASCADE")
    )
    controller_id: Mapped[str] = mapped_column(String(64))
    commune_code: Mapped[str] = mapped_column(String(64), index=True)
    vehicle_id: Mapped[str] = mapped_column(String(64))
    pass_key: Mapped[str] = mapped_column(String(80))
    line: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(32))
    distance_m: Mapped[float] = mapped_column(Float)
    # The position's own time (the feed's), and when the hub asked the controller.
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    command_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # The command's state while open, then its final state (docs/mobility.md).
    outcome: Mapped[str] = mapped_column(String(20), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delay_saved_s: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class TrafficCount(Base):
    """Traffic on one lane (or detector) of one asset over one period: a 6-minute or an
    hourly bucket. ``lane`` 0 is the asset's total when it reports no lanes."""

    __tablename__ = "traffic_counts"
    __table_args__ = (Index("ix_traffic_counts_period_bucket", "period_min", "bucket"),)

    asset_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lane: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_min: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(64), index=True)
    vehicles: Mapped[int] = mapped_column(Integer)
    flow_vph: Mapped[float] = mapped_column(Float)
    occupancy_pct: Mapped[float | None] = mapped_column(Float)
    speed_kmh: Mapped[float | None] = mapped_column(Float)
    samples: Mapped[int] = mapped_column(Integer)
