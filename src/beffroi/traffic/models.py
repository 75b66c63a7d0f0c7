"""Tables of the traffic area: controllers' configurations, timing plans, timetables and
their delivery, manual plan selections, corridors.

Configurations, plans' stages, timetables' entries and corridors' intersections are JSON
columns, read and written only through the pure models (:mod:`beffroi.traffic.config`,
:mod:`beffroi.traffic.policy`, :mod:`beffroi.traffic.timetable`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.core.time import utcnow
from beffroi.db import Base, JSONType, UTCDateTime


class TrafficConfig(Base):
    """A controller's signal groups, detectors, stages and intergreen matrix
    (:class:`beffroi.traffic.config.ControllerConfig` as JSON). ``version`` rises on every
    change; an update naming an older one is refused (lost update)."""

    __tablename__ = "traffic_configs"

    controller_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrafficPlan(Base):
    """A timing plan of one controller, valid against its configuration when stored."""

    __tablename__ = "traffic_plans"
    __table_args__ = (UniqueConstraint("controller_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    controller_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), default="")
    cycle_s: Mapped[int] = mapped_column(Integer)
    offset_s: Mapped[int] = mapped_column(Integer)
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrafficTimetable(Base):
    """A controller's timetable (switch points) and the document delivered to it: the
    switch points with the plans they name. ``version`` rises by one each time the
    document's content (hashed) changes, never otherwise."""

    __tablename__ = "traffic_timetables"

    controller_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    updated_by: Mapped[str] = mapped_column(String(200))
    compiled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrafficDelivery(Base):
    """Where a controller's timetable stands with it: the version last sent (when, how
    many times in a row) and the version it acknowledged (see
    :mod:`beffroi.devices.delivery`)."""

    __tablename__ = "traffic_deliveries"

    controller_id: Mapped[str] = mapped_column(
        ForeignKey("traffic_timetables.controller_id", ondelete="CASCADE"), primary_key=True
    )
    delivered_version: Mapped[int] = mapped_column(Integer)
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    acked_version: Mapped[int | None] = mapped_column(Integer)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TrafficManualPlan(Base):
    """A plan imposed by hand on a controller until ``ends_at``; the controller returns to
    its timetable by itself then (it was told the end), and the hub notes it
    (``ended_at``). ``command_id``: the ``set_plan`` command that carried it."""

    __tablename__ = "traffic_manual_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    controller_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), index=True
    )
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("communes.code"), index=True)
    plan: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[str] = mapped_column(String(500))
    command_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    ended_by: Mapped[str | None] = mapped_column(String(200))


class TrafficCorridor(Base):
    """A green wave: intersections in driving order (``members``: controller ids, with
    measured distances from the previous one when stored), design speed, common cycle.
    ``commune_code`` None: spans communes or belongs to the metropolis."""

    __tablename__ = "traffic_corridors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("communes.code"), index=True)
    members: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    speed_kmh: Mapped[float] = mapped_column(Float)
    cycle_s: Mapped[int] = mapped_column(Integer)
    plan: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    applied_batch_id: Mapped[str | None] = mapped_column(String(64))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
