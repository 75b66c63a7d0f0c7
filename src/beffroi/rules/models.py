"""Tables of the rules area: the rules, every version of them, and their evaluation state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.db import Base, JSONType, UTCDateTime


class MonitoringRule(Base):
    """A declarative condition on one type's telemetry that raises and clears an alarm.

    ``communes`` ``None`` means every commune. ``error`` and ``errored_at`` are set when
    the engine disabled the rule because its evaluation failed.
    """

    __tablename__ = "monitoring_rules"
    # Ids are never reused (SQLite would reuse the highest after a delete): alarms and
    # versions keep naming the rule that raised them.
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 - SQLAlchemy idiom

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    asset_type: Mapped[str] = mapped_column(String(64), index=True)
    communes: Mapped[list[str] | None] = mapped_column(JSONType)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    alarm_type: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(8))
    enabled: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    errored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))

    def definition(self) -> dict[str, Any]:
        """What a version snapshot and an audit entry keep of the rule."""
        return {
            "key": self.key,
            "name": self.name,
            "kind": self.kind,
            "asset_type": self.asset_type,
            "communes": self.communes,
            "params": self.params,
            "alarm_type": self.alarm_type,
            "severity": self.severity,
            "enabled": self.enabled,
        }


class RuleVersion(Base):
    """One version of a rule as it was saved. Kept after the rule is deleted."""

    __tablename__ = "rule_versions"

    rule_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    changed_by: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RuleState(Base):
    """Where a rule stands on one asset, shared by every gateway process.

    A row exists only while there is something to remember: a condition holding since
    ``since`` (minimum duration), an active alarm, or the previous reading (rate of
    change). ``last_ts`` orders writers: a reading older than it changes nothing.
    """

    __tablename__ = "rule_states"

    rule_id: Mapped[int] = mapped_column(
        ForeignKey("monitoring_rules.id", ondelete="CASCADE"), primary_key=True
    )
    asset_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_value: Mapped[float | None] = mapped_column(Float)
    last_ts: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean)
