"""A batch of decoded device messages, as the store takes it, reduces it and answers it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from beffroi.core.events import DomainEvent
from beffroi.telemetry.decode import Event, Readings, Rejection, Reply, Status
from beffroi.telemetry.events import TelemetryUpdated, Value


@dataclass(slots=True)
class Batch:
    """What one transaction writes."""

    readings: list[Readings] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    # What the batch's messages brought: one per message, one per entry of a bulk message.
    entries: int = 0
    _reduced: Reduced | None = None

    def reduced(self) -> Reduced:
        """The readings reduced (worked out once: the gateway does it while the batch before
        is being written, so the write itself holds the database less)."""
        if self._reduced is None:
            self._reduced = Reduced.of(self.readings)
        return self._reduced

    def add(self, item: Readings | Event | Status | Reply | Rejection) -> None:
        """File one decoded message (or rejection) in its list."""
        if isinstance(item, Readings):
            self.readings.append(item)
        elif isinstance(item, Event):
            self.events.append(item)
        elif isinstance(item, Status):
            self.statuses.append(item)
        elif isinstance(item, Reply):
            self.replies.append(item)
        else:
            self.rejections.append(item)


@dataclass(frozen=True, slots=True)
class Written:
    """What a committed batch changed, as events for the hub."""

    points: int
    events: list[DomainEvent]
    # Messages refused only once compared with the database (a reply to no command).
    rejections: list[Rejection] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Reduced:
    """A batch's readings, reduced once: every point, the newest value per key, and the
    last time each device spoke."""

    points: list[tuple[Any, ...]]
    newest: dict[tuple[str, str], tuple[datetime, float | None, str | None]]
    last_seen: dict[str, datetime]

    @classmethod
    def of(cls, readings: Sequence[Readings]) -> Reduced:
        """Reduce ``readings`` in one pass."""
        points: list[tuple[Any, ...]] = []
        newest: dict[tuple[str, str], tuple[datetime, float | None, str | None]] = {}
        last_seen: dict[str, datetime] = {}
        for reading in readings:
            asset_id = reading.asset_id
            for key, ts, value, text_value in reading.points:
                points.append((asset_id, key, ts, value, text_value))
                current = newest.get((asset_id, key))
                if current is None or ts > current[0]:
                    newest[(asset_id, key)] = (ts, value, text_value)
                seen = last_seen.get(asset_id)
                if seen is None or ts > seen:
                    last_seen[asset_id] = ts
        return cls(points, newest, last_seen)


def telemetry_events(rows: Iterable[tuple[Any, ...]]) -> list[DomainEvent]:
    """One event per asset from changed (asset_id, key, ts, value, text) rows."""
    changed: dict[str, dict[str, Value]] = defaultdict(dict)
    stamps: dict[str, datetime] = {}
    for asset_id, key, ts, value, text_value in rows:
        changed[asset_id][key] = text_value if text_value is not None else value
        stamps[asset_id] = max(ts, stamps.get(asset_id, ts))
    return [TelemetryUpdated(a, stamps[a], values) for a, values in changed.items()]
