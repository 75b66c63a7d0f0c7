"""Tables of the lighting area: programs, calendars, their assignments, compiled schedules.

Programs' steps and calendars' rules are JSON columns, read and written only through the
pure models (:mod:`beffroi.lighting.program`, :mod:`beffroi.lighting.calendar`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.core.time import utcnow
from beffroi.db import Base, JSONType, UTCDateTime


class LightingProgram(Base):
    """A program: ordered steps through a lighting day. ``commune_code`` None: shared by
    the metropolis (everybody reads it, only metropolis-wide people change it)."""

    __tablename__ = "lighting_programs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(String(2000), default="")
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("communes.code"), index=True)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    # Raised on every change; an update naming an older version is refused (lost update).
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LightingCalendar(Base):
    """A calendar: ordered rules naming programs, and a default program."""

    __tablename__ = "lighting_calendars"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(String(2000), default="")
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("communes.code"), index=True)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    default_program_id: Mapped[int] = mapped_column(
        ForeignKey("lighting_programs.id", ondelete="RESTRICT"), index=True
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LightingAssignment(Base):
    """A calendar given to a target: a cabinet, an asset group, a polygon, a commune, or the
    whole metropolis (the default). ``target_key`` makes one assignment per target.

    ``commune_code``: the commune the assignment belongs to (the cabinet's, the group's,
    the commune itself, or the commune a polygon is limited to); None for metropolis-wide
    ones, which only metropolis-wide people change.
    """

    __tablename__ = "lighting_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("lighting_calendars.id", ondelete="RESTRICT"), index=True
    )
    target_kind: Mapped[str] = mapped_column(String(20), index=True)
    target_key: Mapped[str] = mapped_column(String(120), unique=True)
    cabinet_id: Mapped[str | None] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("asset_groups.id", ondelete="CASCADE"), index=True
    )
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("communes.code"), index=True)
    polygon: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LightingSchedule(Base):
    """The schedule a cabinet's controller runs by itself, as last compiled.

    ``version`` rises by one each time the content (hashed) changes, never otherwise.
    """

    __tablename__ = "lighting_schedules"

    cabinet_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    compiled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LightingOverride(Base):
    """A level imposed on a selection of lights for a while (a festival, an accident scene
    lit at 100 %), winning over the programs; the most recent wins where several overlap.

    The target is one of: ``asset_ids`` (lights and cabinets), ``group_id``, a
    ``polygon`` (optionally limited to ``commune_code``), a commune (``commune_code``), or
    the metropolis. ``commune_code``: the commune it belongs to (scope); None for one of
    the metropolis, or spanning communes, which only metropolis-wide people change.

    ``state`` is what people decided (pending_approval, approved, refused, cancelled);
    scheduled / active / ended are derived from the clock on reading
    (:mod:`beffroi.lighting.override`). ``approved_at`` is set once it may apply (at
    creation when it needs no approval); ``closed_at`` once the end was noted and the
    schedules recompiled without it.
    """

    __tablename__ = "lighting_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(20))
    asset_ids: Mapped[list[str] | None] = mapped_column(JSONType)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("asset_groups.id", ondelete="SET NULL"), index=True
    )
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("communes.code"), index=True)
    polygon: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    level_pct: Mapped[float] = mapped_column(Float)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[str] = mapped_column(String(500))
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(20), index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_by_user_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    cancelled_by: Mapped[str | None] = mapped_column(String(200))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LightingDelivery(Base):
    """Where a cabinet's schedule stands with its controller: the version last sent (and
    when, and how many times in a row), and the version the controller acknowledged.

    A table of its own, beside ``lighting_schedules``: compiling writes that one, delivery
    and acknowledgements this one. A cabinet is *behind* when the version it acknowledged
    is older than the one compiled (or it acknowledged none).
    """

    __tablename__ = "lighting_deliveries"

    cabinet_id: Mapped[str] = mapped_column(
        ForeignKey("lighting_schedules.cabinet_id", ondelete="CASCADE"), primary_key=True
    )
    delivered_version: Mapped[int] = mapped_column(Integer)
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Deliveries of ``delivered_version`` so far: the wait before the next grows with it.
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    acked_version: Mapped[int | None] = mapped_column(Integer)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
