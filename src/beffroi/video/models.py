"""Tables of the video area."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.core.time import utcnow
from beffroi.db import Base, BigId, JSONType, UTCDateTime


class Habilitation(Base):
    """An agent individually designated and authorised to view images (CSI L252-2): by an
    authority (the prefect's order, its reference), for some cameras or communes, for a
    period. Never deleted: a revoked one keeps its row, for the register."""

    __tablename__ = "video_habilitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    authority: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(100))
    # Covered: every camera of these communes, and these cameras (asset ids) besides.
    communes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    cameras: Mapped[list[str]] = mapped_column(JSONType, default=list)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    revoke_reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ViewSession(Base):
    """An agent watching cameras live, for a stated reason: opened within a habilitation,
    ended by the agent or by itself at ``expires_at`` (the maximum duration)."""

    __tablename__ = "video_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    agent: Mapped[str] = mapped_column(String(200))
    # The habilitations in force that covered the cameras when it opened.
    habilitations: Mapped[list[int]] = mapped_column(JSONType, default=list)
    cameras: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # The cameras' communes, for commune scope: a session is seen by who sees them all.
    communes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    reason: Mapped[str] = mapped_column(String(200))
    reason_text: Mapped[str | None] = mapped_column(String(2000))
    profile: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "agent", "expired", "revoked": why it ended.
    ended_because: Mapped[str | None] = mapped_column(String(32))


class RegisterEntry(Base):
    """One line of the register the law asks for (CSI L252-3, R252-x): a view, a steering,
    an extraction, a transmission, a deletion, a hold, refused attempts too; one line per
    camera. Hash-chained like the audit log (``core.chain``), on a chain of its own."""

    __tablename__ = "video_register"
    __table_args__ = (Index("ix_video_register_camera_ts", "camera_id", "ts"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    camera_id: Mapped[str | None] = mapped_column(String(64))
    commune_code: Mapped[str | None] = mapped_column(String(64), index=True)
    agent: Mapped[str] = mapped_column(String(200), index=True)
    reason: Mapped[str | None] = mapped_column(String(2000))
    outcome: Mapped[str] = mapped_column(String(16))
    session_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class RegisterHead(Base):
    """The register chain's head (one row, locked by every append) and its checkpoint: the
    sequence and hash of the last entry purged after three years, where verification
    starts again."""

    __tablename__ = "video_register_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, default=0)
    hash: Mapped[str] = mapped_column(String(64))
    purged_seq: Mapped[int] = mapped_column(BigId, default=0)
    purged_hash: Mapped[str] = mapped_column(String(64))


class Retention(Base):
    """A camera's authorised retention period (the prefectoral authorisation's), when it is
    not the default one."""

    __tablename__ = "video_retention"

    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(64), index=True)
    days: Mapped[int] = mapped_column(Integer)
    authorisation: Mapped[str] = mapped_column(String(200))
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LegalHold(Base):
    """Footage of some cameras over a period kept beyond retention for a judicial
    procedure. Placing and lifting each take two people (asked by one, approved by
    another); the state follows from which of the four moments are set."""

    __tablename__ = "video_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cameras: Mapped[list[str]] = mapped_column(JSONType, default=list)
    communes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    reference: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(2000))
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_by_user_id: Mapped[int | None] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    placed_by: Mapped[str | None] = mapped_column(String(200))
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    lift_requested_by: Mapped[str | None] = mapped_column(String(200))
    lift_requested_by_user_id: Mapped[int | None] = mapped_column(Integer)
    lift_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lift_reason: Mapped[str | None] = mapped_column(String(2000))
    lifted_by: Mapped[str | None] = mapped_column(String(200))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refused_by: Mapped[str | None] = mapped_column(String(200))
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Extraction(Base):
    """A period of a camera's footage exported by the VMS (for a requisition), and where it
    went: the transmissions are register entries naming it."""

    __tablename__ = "video_extractions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    export_id: Mapped[str] = mapped_column(String(100), unique=True)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    commune_code: Mapped[str] = mapped_column(String(64), index=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(2000))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PrivacyMask(Base):
    """Areas of a camera's picture the VMS blanks out (homes' windows, gardens): polygons in
    image coordinates (0..1 from the top left), for one preset or (preset 0) every view."""

    __tablename__ = "video_masks"
    __table_args__ = (UniqueConstraint("camera_id", "preset"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    commune_code: Mapped[str] = mapped_column(String(64), index=True)
    preset: Mapped[int] = mapped_column(Integer)
    polygons: Mapped[list[list[list[float]]]] = mapped_column(JSONType, default=list)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)
