"""Writing decoded device messages: one transaction per batch, idempotent.

A batch is written whole or not at all; the gateway acknowledges its messages to the
broker only after the commit, and a redelivered message changes nothing (primary keys
and ``ON CONFLICT DO NOTHING``). On PostgreSQL points go in with ``COPY`` through a
staging table; on SQLite with ``INSERT OR IGNORE``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.db import Base, Database
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
from beffroi.timeutil import utcnow

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

    @property
    def point_count(self) -> int:
        """Data points in the batch."""
        return sum(len(r.points) for r in self.readings)


@dataclass(frozen=True, slots=True)
class Written:
    """What a committed batch changed, as events for the hub."""

    points: int
    events: list[object]


def _insert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


class TelemetryStore:
    """Writes batches; holds the per-process partition cache."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.partitions = PartitionManager()
        self.dialect = db.url.get_backend_name()

    async def write(self, batch: Batch, now: datetime | None = None) -> Written:
        """Write ``batch`` in one transaction; returns the events to publish after it."""
        now = now or utcnow()
        events: list[object] = []
        async with self.db.write() as session:
            points = await self._points(session, batch.readings)
            events += await self._latest(session, batch.readings)
            events += await self._seen(session, batch.readings, now)
            events += await self._statuses(session, batch.statuses)
            events += await self._events(session, batch.events, now)
            await self._rejections(session, batch.rejections, now)
        events += [
            CommandReplyReceived(r.asset_id, r.command_id, r.status, r.detail, r.ts)
            for r in batch.replies
        ]
        return Written(points, events)

    async def _points(self, session: AsyncSession, readings: Sequence[Readings]) -> int:
        rows = [(r.asset_id, *p) for r in readings for p in r.points]
        if not rows:
            return 0
        if self.dialect == "postgresql":
            await self._copy_points(session, rows)
        else:
            stmt = sqlite.insert(TelemetryPoint).on_conflict_do_nothing()
            params = [dict(zip(POINT_COLUMNS, row, strict=True)) for row in rows]
            for start in range(0, len(params), 5000):
                await session.execute(stmt, params[start : start + 5000])
        return len(rows)

    async def _copy_points(self, session: AsyncSession, rows: list[tuple[Any, ...]]) -> None:
        conn = await session.connection()
        await self.partitions.ensure(conn, {row[2].date() for row in rows})
        # A per-connection staging table, emptied at each commit: COPY cannot skip
        # duplicates itself, the INSERT … ON CONFLICT after it does.
        await conn.exec_driver_sql(
            "CREATE TEMP TABLE IF NOT EXISTS telemetry_staging "
            "(asset_id text, key text, ts timestamptz, value double precision, text text) "
            "ON COMMIT DELETE ROWS"
        )
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.copy_records_to_table(
            "telemetry_staging", records=rows, columns=list(POINT_COLUMNS)
        )
        await conn.exec_driver_sql(
            "INSERT INTO telemetry_points (asset_id, key, ts, value, text) "
            "SELECT asset_id, key, ts, value, text FROM telemetry_staging "
            "ON CONFLICT DO NOTHING"
        )

    async def _latest(self, session: AsyncSession, readings: Sequence[Readings]) -> list[object]:
        newest: dict[tuple[str, str], tuple[datetime, float | None, str | None]] = {}
        for reading in readings:
            for key, ts, value, text_value in reading.points:
                current = newest.get((reading.asset_id, key))
                if current is None or ts > current[0]:
                    newest[(reading.asset_id, key)] = (ts, value, text_value)
        if not newest:
            return []
        params = [
            {"asset_id": a, "key": k, "ts": ts, "value": v, "text": t}
            for (a, k), (ts, v, t) in newest.items()
        ]
        table = LatestValue.__table__
        stmt = _insert(self.dialect)(LatestValue)
        stmt = stmt.on_conflict_do_update(
            index_elements=["asset_id", "key"],
            set_={"ts": stmt.excluded.ts, "value": stmt.excluded.value, "text": stmt.excluded.text},
            # Latest is decided by the device's timestamp: a late, older reading loses.
            where=table.c.ts < stmt.excluded.ts,
        ).returning(table.c.asset_id, table.c.key, table.c.ts, table.c.value, table.c.text)
        changed: dict[str, dict[str, Value]] = defaultdict(dict)
        stamps: dict[str, datetime] = {}
        for start in range(0, len(params), CHUNK):
            result = await session.execute(stmt, params[start : start + CHUNK])
            for row in result:
                changed[row.asset_id][row.key] = row.text if row.text is not None else row.value
                stamps[row.asset_id] = max(row.ts, stamps.get(row.asset_id, row.ts))
        return [TelemetryUpdated(a, stamps[a], values) for a, values in changed.items()]

    async def _seen(
        self, session: AsyncSession, readings: Sequence[Readings], now: datetime
    ) -> list[object]:
        """Record that devices spoke; a device that had gone silent is online again."""
        last: dict[str, datetime] = {}
        for reading in readings:
            ts = max(p[1] for p in reading.points)
            if reading.asset_id not in last or ts > last[reading.asset_id]:
                last[reading.asset_id] = ts
        if not last:
            return []
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
            stmt = _insert(self.dialect)(DeviceStatus).on_conflict_do_nothing()
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
            },
        )
        await session.execute(
            stmt,
            [
                {
                    "asset_id": s.asset_id,
                    "online": s.online,
                    "since": s.ts,
                    "reason": "status",
                    "last_seen_at": s.ts if s.online else None,
                    "firmware": s.firmware,
                }
                for s in latest.values()
            ],
        )
        return [
            ConnectivityChanged(s.asset_id, s.online, s.ts, "status")
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
        samples = [
            {
                "received_at": now,
                "reason": r.reason.value,
                # Device-chosen text: NUL is the one character PostgreSQL cannot store.
                "topic": r.topic[:300].replace("\x00", "\\0"),
                "detail": r.detail[:500].replace("\x00", "\\0"),
                "payload": repr(r.payload[:200])[:600],
            }
            for r in rejections[:REJECTION_SAMPLES_PER_BATCH]
        ]
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
