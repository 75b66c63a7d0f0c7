"""Writing decoded device messages: one transaction per batch, idempotent.

A batch is written whole or not at all; the gateway acknowledges its messages to the
broker only after the commit, and a redelivered message changes nothing (primary keys
and ``ON CONFLICT DO NOTHING``). On PostgreSQL points go in with ``COPY`` through a
staging table; on SQLite with ``INSERT OR IGNORE``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.time import utcnow
from beffroi.db import Base, Database
from beffroi.telemetry import pg_writer
from beffroi.telemetry.decode import Event, Readings, Rejection, Reply, Status
from beffroi.telemetry.events import (
    CommandReplyReceived,
    ConnectivityChanged,
    DeviceEventReceived,
    TelemetryUpdated,
    Value,
)
from beffroi.telemetry.models import (
    DeviceEvent,
    DeviceStatus,
    LatestValue,
    RejectedMessage,
    RejectionCount,
    TelemetryPoint,
)
from beffroi.telemetry.partitions import PartitionManager
from beffroi.telemetry.rejects import sample

CHUNK = 900
REJECTION_SAMPLES_PER_BATCH = 50
POINT_COLUMNS = ("asset_id", "key", "ts", "value", "text")


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
    events: list[object]
    # Messages refused only once compared with the database (a reply to no command).
    rejections: list[Rejection] = field(default_factory=list)


Newest = dict[tuple[str, str], tuple[datetime, float | None, str | None]]


class Observation(Protocol):
    """What an observer returns: events to publish and messages it refuses."""

    events: list[object]
    rejections: list[Rejection]


@dataclass(frozen=True, slots=True)
class Seen:
    """What a batch brought, as the other areas following the stream see it: replies,
    the newest value of each key, the fault events stored for the first time, and the
    devices whose connectivity changed."""

    replies: Sequence[Reply]
    newest: Newest
    events: Sequence[DeviceEventReceived]
    connectivity: Sequence[ConnectivityChanged]

    def __bool__(self) -> bool:
        return bool(self.replies or self.newest or self.events or self.connectivity)


class BatchObserver(Protocol):
    """Another area following the ingest stream inside its transaction (commands: replies
    move commands, reported state verifies them; alarms: faults and silences raise them).

    Whatever fails there must not fail the batch: an observer runs its work as follow-up
    stages (:func:`beffroi.telemetry.followup.run_stage`), each in a savepoint."""

    async def observe(self, session: AsyncSession, seen: Seen, now: datetime) -> Observation:
        """Act on what a batch brought, in the batch's transaction."""
        ...


@dataclass(frozen=True, slots=True)
class _Reduced:
    """A batch's readings, reduced once: every point, the newest value per key, and the
    last time each device spoke."""

    points: list[tuple[Any, ...]]
    newest: dict[tuple[str, str], tuple[datetime, float | None, str | None]]
    last_seen: dict[str, datetime]

    @classmethod
    def of(cls, readings: Sequence[Readings]) -> _Reduced:
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


def _telemetry_events(rows: Iterable[tuple[Any, ...]]) -> list[object]:
    """One event per asset from changed (asset_id, key, ts, value, text) rows."""
    changed: dict[str, dict[str, Value]] = defaultdict(dict)
    stamps: dict[str, datetime] = {}
    for asset_id, key, ts, value, text_value in rows:
        changed[asset_id][key] = text_value if text_value is not None else value
        stamps[asset_id] = max(ts, stamps.get(asset_id, ts))
    return [TelemetryUpdated(a, stamps[a], values) for a, values in changed.items()]


def _insert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


class TelemetryStore:
    """Writes batches; holds the per-process partition cache."""

    def __init__(self, db: Database, observers: Sequence[BatchObserver] = ()) -> None:
        self.db = db
        self.observers = list(observers)
        self.partitions = PartitionManager()
        self.dialect = db.url.get_backend_name()

    async def write(self, batch: Batch, now: datetime | None = None) -> Written:
        """Write ``batch`` in one transaction; returns the events to publish after it."""
        try:
            return await self._write(batch, now or utcnow())
        except DBAPIError as exc:
            # A partition this process remembers was dropped (retention, by hand): forget
            # what it knew and try once more, creating what is missing.
            if "no partition of relation" not in str(exc):
                raise
            self.partitions.forget()
            return await self._write(batch, now or utcnow())

    async def _write(self, batch: Batch, now: datetime) -> Written:
        events: list[object] = []
        points = 0
        refused: list[Rejection] = []
        newest: Newest = {}
        if batch.readings and self.dialect == "postgresql":
            days = {p[1].date() for r in batch.readings for p in r.points}
            await self.partitions.ensure(self.db.engine, days)
        async with self.db.write() as session:
            if batch.readings:
                reduced = _Reduced.of(batch.readings)
                newest = reduced.newest
                points = len(reduced.points)
                if self.dialect == "postgresql":
                    events += await self._readings_pg(session, reduced, now)
                else:
                    events += await self._readings_sqlite(session, reduced, now)
            events += await self._statuses(session, batch.statuses)
            events += await self._events(session, batch.events, now)
            seen = Seen(
                batch.replies,
                newest,
                [e for e in events if isinstance(e, DeviceEventReceived)],
                [e for e in events if isinstance(e, ConnectivityChanged)],
            )
            for observer in self.observers if seen else ():
                observed = await observer.observe(session, seen, now)
                events += observed.events
                refused += observed.rejections
            await self._rejections(session, [*batch.rejections, *refused], now)
        events += [
            CommandReplyReceived(r.asset_id, r.command_id, r.status, r.detail, r.ts)
            for r in batch.replies
        ]
        return Written(points, events, refused)

    async def _readings_pg(
        self, session: AsyncSession, reduced: _Reduced, now: datetime
    ) -> list[object]:
        conn = await session.connection()
        # The driver is used directly below: SQLAlchemy must have opened the transaction
        # first (it does so lazily, on its first statement), or each driver call would
        # commit on its own and the staging tables would empty themselves in between.
        await conn.exec_driver_sql("SELECT 1")
        raw = await conn.get_raw_connection()
        changed, online = await pg_writer.write_readings(
            raw.driver_connection,
            reduced.points,
            [(a, k, *v) for (a, k), v in reduced.newest.items()],
            list(reduced.last_seen.items()),
            now,
        )
        return [
            *_telemetry_events(
                (r["asset_id"], r["key"], r["ts"], r["value"], r["text"]) for r in changed
            ),
            *(ConnectivityChanged(a, True, now, "telemetry") for a in online),
        ]

    async def _readings_sqlite(
        self, session: AsyncSession, reduced: _Reduced, now: datetime
    ) -> list[object]:
        stmt = sqlite.insert(TelemetryPoint).on_conflict_do_nothing()
        params = [dict(zip(POINT_COLUMNS, row, strict=True)) for row in reduced.points]
        for start in range(0, len(params), 5000):
            await session.execute(stmt, params[start : start + 5000])
        events = await self._latest(session, reduced)
        events += await self._seen(session, reduced.last_seen, now)
        return events

    async def _latest(self, session: AsyncSession, reduced: _Reduced) -> list[object]:
        params = [
            {"asset_id": a, "key": k, "ts": ts, "value": v, "text": t}
            for (a, k), (ts, v, t) in reduced.newest.items()
        ]
        table = LatestValue.__table__
        upsert = sqlite.insert(LatestValue)
        stmt = upsert.on_conflict_do_update(
            index_elements=["asset_id", "key"],
            set_={
                "ts": upsert.excluded.ts,
                "value": upsert.excluded.value,
                "text": upsert.excluded.text,
            },
            # Latest is decided by the device's timestamp: a late, older reading loses.
            where=table.c.ts < upsert.excluded.ts,
        ).returning(table.c.asset_id, table.c.key, table.c.ts, table.c.value, table.c.text)
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(params), CHUNK):
            result = await session.execute(stmt, params[start : start + CHUNK])
            rows += [tuple(row) for row in result]
        return _telemetry_events(rows)

    async def _seen(
        self, session: AsyncSession, last: dict[str, datetime], now: datetime
    ) -> list[object]:
        """Record that devices spoke; a device that had gone silent is online again."""
        ids = sorted(last)
        known: dict[str, bool] = {}
        for start in range(0, len(ids), CHUNK):
            rows = await session.execute(
                select(DeviceStatus.asset_id, DeviceStatus.online).where(
                    DeviceStatus.asset_id.in_(ids[start : start + CHUNK])
                )
            )
            known.update({row.asset_id: row.online for row in rows})
        fresh = [a for a in ids if a not in known]
        woke = [a for a in ids if known.get(a) is False]
        if fresh:
            stmt = sqlite.insert(DeviceStatus).on_conflict_do_nothing()
            rows_in = [
                {
                    "asset_id": a,
                    "online": True,
                    "since": now,
                    "reason": "telemetry",
                    "last_seen_at": last[a],
                }
                for a in fresh
            ]
            for start in range(0, len(rows_in), CHUNK):
                await session.execute(stmt, rows_in[start : start + CHUNK])
        for start in range(0, len(woke), CHUNK):
            await session.execute(
                update(DeviceStatus)
                .where(DeviceStatus.asset_id.in_(woke[start : start + CHUNK]))
                .values(online=True, since=now, reason="telemetry")
            )
        seen = [a for a in ids if a in known]
        if seen:
            await self._touch(session, seen, last)
        return [ConnectivityChanged(a, True, now, "telemetry") for a in [*fresh, *woke]]

    async def _touch(
        self, session: AsyncSession, ids: list[str], last: dict[str, datetime]
    ) -> None:
        table = Base.metadata.tables["device_status"]
        stmt = (
            update(table)
            .where(table.c.asset_id == bindparam("b_asset"))
            .where((table.c.last_seen_at.is_(None)) | (table.c.last_seen_at < bindparam("b_seen")))
            .values(last_seen_at=bindparam("b_seen"))
        )
        params = [{"b_asset": a, "b_seen": last[a]} for a in ids]
        for start in range(0, len(params), 5000):
            await session.execute(stmt, params[start : start + 5000])

    async def _statuses(self, session: AsyncSession, statuses: Sequence[Status]) -> list[object]:
        if not statuses:
            return []
        latest: dict[str, Status] = {}
        for status in statuses:
            latest[status.asset_id] = status
        rows = await session.execute(
            select(DeviceStatus.asset_id, DeviceStatus.online).where(
                DeviceStatus.asset_id.in_(sorted(latest))
            )
        )
        before = {row.asset_id: row.online for row in rows}
        stmt = _insert(self.dialect)(DeviceStatus)
        stmt = stmt.on_conflict_do_update(
            index_elements=["asset_id"],
            set_={
                "online": stmt.excluded.online,
                "since": stmt.excluded.since,
                "reason": stmt.excluded.reason,
                # A will message says nothing of the firmware: keep what was known.
                "firmware": func.coalesce(stmt.excluded.firmware, DeviceStatus.firmware),
                "via": stmt.excluded.via,
            },
        )
        await session.execute(
            stmt,
            [
                {
                    "asset_id": s.asset_id,
                    "online": s.online,
                    "since": s.ts,
                    "reason": s.reason,
                    "last_seen_at": s.ts if s.online else None,
                    "firmware": s.firmware,
                    "via": s.via,
                }
                for s in latest.values()
            ],
        )
        return [
            ConnectivityChanged(s.asset_id, s.online, s.ts, s.reason)
            for s in latest.values()
            if before.get(s.asset_id) != s.online
        ]

    async def _events(
        self, session: AsyncSession, events: Sequence[Event], now: datetime
    ) -> list[object]:
        if not events:
            return []
        stmt = (
            _insert(self.dialect)(DeviceEvent)
            .on_conflict_do_nothing()
            .returning(DeviceEvent.asset_id, DeviceEvent.ts, DeviceEvent.code, DeviceEvent.active)
        )
        params = [
            {
                "asset_id": e.asset_id,
                "ts": e.ts,
                "code": e.code,
                "active": e.active,
                "detail": e.detail,
                "received_at": now,
            }
            for e in events
        ]
        stored: set[tuple[str, datetime, str, bool]] = set()
        for start in range(0, len(params), CHUNK):
            result = await session.execute(stmt, params[start : start + CHUNK])
            stored |= {(r.asset_id, r.ts, r.code, r.active) for r in result}
        # Only first deliveries become hub events: a redelivery raises nothing twice.
        return [
            DeviceEventReceived(e.asset_id, e.ts, e.code, e.active, e.detail, e.gateway_id)
            for e in events
            if (e.asset_id, e.ts, e.code, e.active) in stored
        ]

    async def _rejections(
        self, session: AsyncSession, rejections: Sequence[Rejection], now: datetime
    ) -> None:
        if not rejections:
            return
        samples = [sample(r, now) for r in rejections[:REJECTION_SAMPLES_PER_BATCH]]
        await session.execute(insert(RejectedMessage), samples)
        hour = now.replace(minute=0, second=0, microsecond=0)
        counts = Counter(r.reason.value for r in rejections)
        stmt = _insert(self.dialect)(RejectionCount)
        stmt = stmt.on_conflict_do_update(
            index_elements=["reason", "hour"],
            set_={"count": RejectionCount.__table__.c.count + stmt.excluded.count},
        )
        await session.execute(
            stmt, [{"reason": k, "hour": hour, "count": v} for k, v in sorted(counts.items())]
        )
