"""Writing an alarm's history and announcing its changes: the same rows whoever acts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms.events import AlarmChanged
from beffroi.alarms.models import AlarmHistory
from beffroi.catalogue import Severity
from beffroi.core.events import DomainEvent
from beffroi.db import Base
from beffroi.db.copy import insert_rows


class AlarmLike(Protocol):
    """What a history entry reads from an alarm (a row, or one about to be inserted)."""

    id: int
    asset_id: str
    commune_code: str
    alarm_type: str
    severity: str
    state: str
    parent_id: int | None


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of an alarm's history, with the alarm as it stands after it."""

    alarm: AlarmLike
    action: str
    ts: datetime
    actor: str
    actor_kind: str
    detail: dict[str, Any] = field(default_factory=dict)
    # Repeats are announced but not written: the occurrence count records them.
    kept: bool = True
    # The alarm's state when the entry was made (it may change again in the same call).
    state: str = ""

    def __post_init__(self) -> None:
        if not self.state:
            object.__setattr__(self, "state", self.alarm.state)

    def row(self) -> dict[str, Any]:
        """The ``alarm_history`` row."""
        return {
            "alarm_id": self.alarm.id,
            "ts": self.ts,
            "action": self.action,
            "actor": self.actor,
            "actor_kind": self.actor_kind,
            "state": self.state,
            "detail": self.detail,
        }

    def event(self) -> AlarmChanged:
        """The hub event announcing it."""
        a = self.alarm
        return AlarmChanged(
            a.id,
            a.asset_id,
            a.commune_code,
            a.alarm_type,
            Severity(a.severity),
            self.state,
            self.action,
            self.ts,
            a.parent_id,
        )


async def write(session: AsyncSession, entries: Sequence[Entry]) -> list[DomainEvent]:
    """Insert the kept entries (COPY on PostgreSQL); returns every entry's hub event."""
    rows = [e.row() for e in entries if e.kept]
    await insert_rows(session, Base.metadata.tables[AlarmHistory.__tablename__], rows)
    return [e.event() for e in entries]
