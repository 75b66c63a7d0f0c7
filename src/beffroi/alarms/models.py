"""Tables of alarms: one row per alarm, and the history of everything that happened to it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.db import Base, BigId, JSONType, UTCDateTime


class Alarm(Base):
    """An alarm on one asset, from raising to acknowledged clearing.

    ``active_key`` is ``"<asset>|<type>"`` while the alarm is active and ``NULL`` once
    cleared: its unique constraint is what keeps one active alarm per (asset, type) even
    with several gateways raising at once (NULLs never collide, on either database).
    """

    __tablename__ = "alarms"
    __table_args__ = (
        Index("ix_alarms_state_raised", "state", "raised_at"),
        Index("ix_alarms_asset_type", "asset_id", "alarm_type"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    asset_id: Mapped[str] = mapped_column(String(64))
    asset_type: Mapped[str] = mapped_column(String(64))
    commune_code: Mapped[str] = mapped_column(String(64), index=True)
    domain: Mapped[str] = mapped_column(String(16))
    alarm_type: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(24))
    active_key: Mapped[str | None] = mapped_column(String(140), unique=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_by: Mapped[str | None] = mapped_column(String(200))
    clear_reason: Mapped[str | None] = mapped_column(Text)
    assigned_to: Mapped[str | None] = mapped_column(String(200))
    shelved_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shelved_by: Mapped[str | None] = mapped_column(String(200))
    shelve_reason: Mapped[str | None] = mapped_column(Text)
    # The root-cause alarm this one is grouped under (a cabinet's supply loss, say).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("alarms.id"), index=True)
    # The monitoring rule that raised it; no foreign key, so a rule can be deleted and
    # its alarms keep their history.
    rule_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlarmHistory(Base):
    """One thing that happened to an alarm: raised, acknowledged, commented, cleared…"""

    __tablename__ = "alarm_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id"), index=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(200))
    actor_kind: Mapped[str] = mapped_column(String(16))
    # The alarm's state after this entry.
    state: Mapped[str] = mapped_column(String(24))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class FeedCursor(Base):
    """How far one follower (``notifications``, ``interventions``) has read
    ``alarm_history``: one row each, locked while it reads.

    ``holes`` are ids below ``last_id`` not yet visible when it moved past them (a
    transaction on PostgreSQL can commit after a later one): ``[[first, last, since]]``
    ranges, read if they appear and forgotten after a grace period (rolled back).
    """

    __tablename__ = "alarm_feed_cursors"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigId)
    holes: Mapped[list[list[Any]]] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
