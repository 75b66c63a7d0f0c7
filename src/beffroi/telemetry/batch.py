"""A batch of decoded device messages, as the store takes it, reduces it and answers it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
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


NewestValue = tuple[datetime, float | None, str | None]


class Reduced:
    """A batch's readings, reduced once: every point; and, worked out only when asked for
    (at ingest rates PostgreSQL works them out itself, and most batches need them for
    nothing else), the newest value per key and the last time each device spoke."""

    __slots__ = ("_last_seen", "_newest", "points")

    def __init__(self, points: list[tuple[Any, ...]]) -> None:
        self.points = points
        self._newest: dict[tuple[str, str], NewestValue] | None = None
        self._last_seen: dict[str, datetime] | None = None

    @classmethod
    def of(cls, readings: Sequence[Readings]) -> Reduced:
        """Every point of ``readings``, as (asset, key, ts, value, text)."""
        points: list[tuple[Any, ...]] = []
        for reading in readings:
            asset_id = reading.asset_id
            points += [(asset_id, k, ts, v, t) for k, ts, v, t in reading.points]
        return cls(points)

    @property
    def newest(self) -> dict[tuple[str, str], NewestValue]:
        """The newest (ts, value, text) of each (asset, key), by timestamp."""
        if self._newest is None:
            newest: dict[tuple[str, str], NewestValue] = {}
            for asset_id, key, ts, value, text_value in self.points:
                current = newest.get((asset_id, key))
                if current is None or ts > current[0]:
                    newest[(asset_id, key)] = (ts, value, text_value)
            self._newest = newest
        return self._newest

    @property
    def last_seen(self) -> dict[str, datetime]:
        """The newest timestamp of each asset."""
        if self._last_seen is None:
            last_seen: dict[str, datetime] = {}
            for asset_id, _key, ts, _value, _text in self.points:
                seen = last_seen.get(asset_id)
                if seen is None or ts > seen:
                    last_seen[asset_id] = ts
            self._last_seen = last_seen
        return self._last_seen


class NewestOf(Mapping[tuple[str, str], NewestValue]):
    """:attr:`Reduced.newest` as a mapping worked out on first use, for observers that may
    not need it."""

    __slots__ = ("_reduced",)

    def __init__(self, reduced: Reduced) -> None:
        self._reduced = reduced

    def __getitem__(self, key: tuple[str, str]) -> NewestValue:
        return self._reduced.newest[key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._reduced.newest)

    def __len__(self) -> int:
        return len(self._reduced.newest)


def telemetry_events(rows: Iterable[tuple[Any, ...]]) -> list[DomainEvent]:
    """One event per asset from changed (asset_id, key, ts, value, text) rows."""
    changed: dict[str, dict[str, Value]] = defaultdict(dict)
    stamps: dict[str, datetime] = {}
    for asset_id, key, ts, value, text_value in rows:
        changed[asset_id][key] = text_value if text_value is not None else value
        stamps[asset_id] = max(ts, stamps.get(asset_id, ts))
    return [TelemetryUpdated(a, stamps[a], values) for a, values in changed.items()]
