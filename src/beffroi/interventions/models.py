"""Tables of the interventions area: teams, work orders and everything attached to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.db import Base, BigId, JSONType, UTCDateTime


class Team(Base):
    """A field team: the categories of work it does and the communes it covers."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    categories: Mapped[list[str]] = mapped_column(JSONType)
    communes: Mapped[list[str]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TeamMember(Base):
    """A person in a team."""

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Intervention(Base):
    """A field work order, from opening to closing (:mod:`.lifecycle`)."""

    __tablename__ = "interventions"
    __table_args__ = (
        Index("ix_interventions_status_due_at", "status", "due_at"),
        Index("ix_interventions_team_id_status", "team_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    commune_code: Mapped[str] = mapped_column(ForeignKey("communes.code"), index=True)
    # The main asset; more may be linked (intervention_assets). No foreign key: a work
    # order keeps its history when an asset is removed.
    asset_id: Mapped[str | None] = mapped_column(String(64), index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Resolved with ``clear_alarms``: the linked alarms are cleared once the asset's
    # state confirms the repair (jobs.confirm_repairs), then this goes back to false.
    clear_alarms_pending: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InterventionAlarm(Base):
    """An alarm the intervention deals with."""

    __tablename__ = "intervention_alarms"

    intervention_id: Mapped[int] = mapped_column(
        ForeignKey("interventions.id", ondelete="CASCADE"), primary_key=True
    )
    alarm_id: Mapped[int] = mapped_column(
        ForeignKey("alarms.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InterventionAsset(Base):
    """An asset the intervention works on."""

    __tablename__ = "intervention_assets"

    intervention_id: Mapped[int] = mapped_column(
        ForeignKey("interventions.id", ondelete="CASCADE"), primary_key=True
    )
    asset_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InterventionNote(Base):
    """A note written on an intervention (in the field or at the desk)."""

    __tablename__ = "intervention_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    intervention_id: Mapped[int] = mapped_column(
        ForeignKey("interventions.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    author: Mapped[str] = mapped_column(String(200))


class InterventionPhoto(Base):
    """A photo taken on site, stored whole (JPEG, PNG or WebP, size-limited)."""

    __tablename__ = "intervention_photos"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    intervention_id: Mapped[int] = mapped_column(
        ForeignKey("interventions.id", ondelete="CASCADE"), index=True
    )
    content_type: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    author: Mapped[str] = mapped_column(String(200))


class InterventionHistory(Base):
    """One change of an intervention: who, when, from what to what."""

    __tablename__ = "intervention_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    intervention_id: Mapped[int] = mapped_column(
        ForeignKey("interventions.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    actor_kind: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class InterventionPolicy(Base):
    """When an alarm of a type opens a work order on its own, and what kind."""

    __tablename__ = "intervention_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alarm_type: Mapped[str] = mapped_column(String(64), unique=True)
    # The least severe alarm that opens one: "major" takes critical and major alarms.
    min_severity: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(8))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
