"""Tables of the notifications area: routes, deliveries, and the cursor over alarm history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.db import Base, BigId, JSONType, UTCDateTime


class NotificationRoute(Base):
    """Where alarm history entries matching a filter are sent: a webhook or e-mail.

    An empty list of severities, alarm types or domains matches any; ``communes`` ``NULL``
    matches every commune (and only a metropolis-wide person may create such a route).
    The time window is in the city's time zone; ``time_from`` after ``time_to`` crosses
    midnight, and the night then belongs to the day it starts on.
    """

    __tablename__ = "notification_routes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(16))
    # A URL (webhook) or a list of addresses (email).
    target: Mapped[Any] = mapped_column(JSONType)
    severities: Mapped[list[str]] = mapped_column(JSONType)
    alarm_types: Mapped[list[str]] = mapped_column(JSONType)
    communes: Mapped[list[str] | None] = mapped_column(JSONType)
    domains: Mapped[list[str]] = mapped_column(JSONType)
    actions: Mapped[list[str]] = mapped_column(JSONType)
    # ISO weekdays, Monday = 1.
    days: Mapped[list[int]] = mapped_column(JSONType)
    # "HH:MM" local times; both NULL: all day.
    time_from: Mapped[str | None] = mapped_column(String(5))
    time_to: Mapped[str | None] = mapped_column(String(5))
    escalation_only: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))


class NotificationDelivery(Base):
    """One message of one route about one alarm history entry (or a test), and its fate.

    The channel and target are copied from the route when the delivery is made: the
    record says where it was sent even after the route changes or goes.
    """

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        # One delivery per route and history entry, whatever happens to the cursor.
        UniqueConstraint("route_id", "history_id"),
        # The sender's question: what is pending and due?
        Index("ix_notification_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    route_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_routes.id", ondelete="SET NULL")
    )
    route_name: Mapped[str] = mapped_column(String(100))
    # NULL for a test notification.
    history_id: Mapped[int | None] = mapped_column(BigInteger)
    alarm_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    commune_code: Mapped[str | None] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[Any] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
