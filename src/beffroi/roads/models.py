"""Tables of the roads area: road situations, the communes they cross, and the message
signs that show them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.core.time import utcnow
from beffroi.db import Base, JSONType, UTCDateTime


class RoadSituation(Base):
    """Works, a closure, an event or an incident on the roads, over a period.

    ``geometry`` (a line or an area) and ``detour`` (a line) are GeoJSON, WGS84.
    ``status`` is moved by the clock (``roads.lifecycle``) and by people (cancel, end
    now). The communes it crosses are in :class:`RoadSituationCommune`; ``commune_code``
    is the one commune when it crosses one, None when it crosses several (the audit's).
    """

    __tablename__ = "road_situations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(20), index=True)
    incident_kind: Mapped[str | None] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    road: Mapped[str] = mapped_column(String(200), default="")
    geometry: Mapped[dict[str, Any]] = mapped_column(JSONType)
    detour: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    road_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    lanes_closed: Mapped[int | None] = mapped_column(Integer)
    speed_limit_kmh: Mapped[int | None] = mapped_column(Integer)
    delay_min: Mapped[int | None] = mapped_column(Integer)
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("communes.code"), index=True)
    # Raised on every change; an update naming an older version is refused (lost update).
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[str | None] = mapped_column(String(500))


class RoadSituationCommune(Base):
    """A commune a situation crosses: its scope (commune staff see the situations that
    cross their commune; changing one needs every commune it crosses)."""

    __tablename__ = "road_situation_communes"

    situation_id: Mapped[int] = mapped_column(
        ForeignKey("road_situations.id", ondelete="CASCADE"), primary_key=True
    )
    commune_code: Mapped[str] = mapped_column(
        ForeignKey("communes.code"), primary_key=True, index=True
    )


class RoadSignPosting(Base):
    """A message sign showing a situation: the text sent with the ``display`` command, and
    once the situation is over the ``clear`` command that took it down."""

    __tablename__ = "road_sign_postings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    situation_id: Mapped[int] = mapped_column(
        ForeignKey("road_situations.id", ondelete="CASCADE"), index=True
    )
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    commune_code: Mapped[str] = mapped_column(ForeignKey("communes.code"), index=True)
    text: Mapped[str] = mapped_column(String(512))
    display_command_id: Mapped[str] = mapped_column(String(32))
    posted_by: Mapped[str] = mapped_column(String(200))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    clear_command_id: Mapped[str | None] = mapped_column(String(32))
    cleared_by: Mapped[str | None] = mapped_column(String(200))
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
