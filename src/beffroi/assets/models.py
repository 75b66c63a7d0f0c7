"""Equipment of the public space, and named groups of it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.assets.lifecycle import AssetStatus
from beffroi.core.time import utcnow
from beffroi.db import Base, JSONType, UTCDateTime

ASSET_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


class Asset(Base):
    """One piece of equipment. Its id is also its MQTT identity, hence topic-safe."""

    __tablename__ = "assets"
    __table_args__ = (
        Index("ix_assets_commune_type", "commune_code", "type"),
        Index("ix_assets_lon_lat", "lon", "lat"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200))
    commune_code: Mapped[str] = mapped_column(ForeignKey("communes.code"))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("assets.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default=AssetStatus.IN_SERVICE, index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    manufacturer: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    installed_on: Mapped[date | None] = mapped_column(Date)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Raised on every change; an update naming an older version is refused (lost update).
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def location(self) -> dict[str, Any]:
        """Where it stands, as a GeoJSON Point: the two columns ``lon`` and ``lat``."""
        return {"type": "Point", "coordinates": (self.lon, self.lat)}


class GroupKind(StrEnum):
    """How a group names its members."""

    LIST = "list"
    POLYGON = "polygon"


class AssetGroup(Base):
    """A named set of assets: an explicit list, or every asset inside a polygon.

    ``commune_code`` is ``None`` for a metropolis-wide group, which only people with
    metropolis-wide scope see.
    """

    __tablename__ = "asset_groups"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("communes.code"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    polygon: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AssetGroupMember(Base):
    """Membership of a list group."""

    __tablename__ = "asset_group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("asset_groups.id", ondelete="CASCADE"), primary_key=True
    )
    asset_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True, index=True
    )
