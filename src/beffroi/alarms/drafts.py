"""What one call of :mod:`.raising` changes: alarms raised but not yet inserted (drafts),
rows repeated or cleared, and the history of it all."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from beffroi.alarms.history import Entry
from beffroi.alarms.lifecycle import SEVERITY_RANK, Action, AlarmSource, AlarmState
from beffroi.alarms.models import Alarm
from beffroi.alarms.signals import AlarmSignal
from beffroi.catalogue import CATALOGUE, Severity

CHUNK = 900
SYSTEM = "system"
DEVICE = "device"


def active_key(asset_id: str, alarm_type: str) -> str:
    """The key that is unique among active alarms."""
    return f"{asset_id}|{alarm_type}"


def chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """``items`` in slices small enough for one statement's parameters."""
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


@dataclass(frozen=True, slots=True)
class AssetInfo:
    """What raising needs of an asset: its type, commune and parent (the cabinet, or
    the gateway it speaks through)."""

    type: str
    commune: str
    parent: str | None


@dataclass(slots=True)
class Draft:
    """An alarm raised in this batch, not yet inserted (it has no id yet)."""

    asset_id: str
    asset_type: str
    commune_code: str
    domain: str
    alarm_type: str
    source: str
    severity: str
    state: str
    active_key: str | None
    raised_at: datetime
    last_seen_at: datetime
    detail: dict[str, Any]
    rule_id: int | None
    updated_at: datetime
    occurrences: int = 1
    cleared_at: datetime | None = None
    cleared_by: str | None = None
    clear_reason: str | None = None
    parent_id: int | None = None
    id: int = 0

    def row(self) -> dict[str, Any]:
        """The ``alarms`` row to insert."""
        return {
            name: getattr(self, name)
            for name in (
                "asset_id",
                "asset_type",
                "commune_code",
                "domain",
                "alarm_type",
                "source",
                "severity",
                "state",
                "active_key",
                "raised_at",
                "last_seen_at",
                "occurrences",
                "cleared_at",
                "cleared_by",
                "clear_reason",
                "detail",
                "rule_id",
                "updated_at",
            )
        }


AnyAlarm = Alarm | Draft


def actor_of(signal: AlarmSignal) -> tuple[str, str]:
    """Who, in the history, caused what a signal did."""
    if signal.source is AlarmSource.DEVICE:
        return f"device:{signal.asset_id}", DEVICE
    if signal.source is AlarmSource.RULE:
        return f"rule:{signal.rule_id}", SYSTEM
    return f"system:{signal.source.value}", SYSTEM


def _severity(signal: AlarmSignal, asset_type: str) -> Severity:
    if signal.severity is not None:
        return signal.severity
    spec = CATALOGUE.get(asset_type)
    fault = spec.fault(signal.alarm_type) if spec else None
    return fault.severity if fault else Severity.MAJOR


@dataclass(slots=True)
class Work:
    """What one call changes: new alarms, touched rows and their history."""

    now: datetime
    drafts: list[Draft] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    repeated: dict[int, AnyAlarm] = field(default_factory=dict)

    def raise_(self, signal: AlarmSignal, info: AssetInfo) -> Draft:
        """A new alarm for ``signal``, drafted with its ``raised`` history line."""
        spec = CATALOGUE.get(info.type)
        draft = Draft(
            asset_id=signal.asset_id,
            asset_type=info.type,
            commune_code=info.commune,
            domain=spec.domain.value if spec else "",
            alarm_type=signal.alarm_type,
            source=signal.source.value,
            severity=_severity(signal, info.type).value,
            state=AlarmState.ACTIVE_UNACKNOWLEDGED.value,
            active_key=active_key(signal.asset_id, signal.alarm_type),
            raised_at=signal.ts,
            last_seen_at=signal.ts,
            detail=dict(signal.detail),
            rule_id=signal.rule_id,
            updated_at=self.now,
        )
        self.drafts.append(draft)
        actor, kind = actor_of(signal)
        self.entries.append(Entry(draft, Action.RAISED, signal.ts, actor, kind, draft.detail))
        return draft

    def repeat(self, alarm: AnyAlarm, signal: AlarmSignal) -> None:
        """``signal`` says again what ``alarm`` says: count it, and raise its severity if
        the signal's is higher."""
        alarm.occurrences += 1
        alarm.last_seen_at = max(alarm.last_seen_at, signal.ts)
        alarm.updated_at = self.now
        severity = _severity(signal, alarm.asset_type)
        if SEVERITY_RANK[severity] < SEVERITY_RANK[Severity(alarm.severity)]:
            before = alarm.severity
            alarm.severity = severity.value
            actor, kind = actor_of(signal)
            detail = {"from": before, "to": severity.value}
            self.entries.append(
                Entry(alarm, Action.SEVERITY_CHANGED, signal.ts, actor, kind, detail)
            )
        if isinstance(alarm, Alarm):
            self.repeated[alarm.id] = alarm

    def clear(
        self, alarm: AnyAlarm, ts: datetime, actor: str, kind: str, reason: str | None
    ) -> None:
        """Clear ``alarm`` at ``ts``, with its history line."""
        self.entries.append(clear_row(alarm, ts, actor, kind, reason, self.now))


def clear_row(
    alarm: AnyAlarm, ts: datetime, actor: str, kind: str, reason: str | None, now: datetime
) -> Entry:
    """Mark an active alarm cleared at ``ts`` (by a device, a rule or a person); returns
    its history entry. The active key goes, so the next fault raises a new alarm."""
    alarm.state = AlarmState(alarm.state).clear().value
    alarm.active_key = None
    alarm.cleared_at = ts
    alarm.cleared_by = actor
    alarm.clear_reason = reason
    alarm.updated_at = now
    detail = {"reason": reason} if reason else {}
    return Entry(alarm, Action.CLEARED, ts, actor, kind, detail)
