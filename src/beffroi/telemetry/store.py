"""Writing decoded device messages: one transaction per batch, idempotent.

A batch is written whole or not at all; the gateway acknowledges its messages to the
broker only after the commit, and a redelivered message changes nothing (primary keys
and ``ON CONFLICT DO NOTHING``). On PostgreSQL points go in with ``COPY`` through a
staging table (:mod:`~beffroi.telemetry.pg_writer`); on SQLite with ``INSERT … ON
CONFLICT DO NOTHING`` (:mod:`~beffroi.telemetry.sqlite_writer`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.events import DomainEvent
from beffroi.core.time import utcnow
from beffroi.db import Database
from beffroi.db.lists import among, parts
from beffroi.db.upsert import dialect_insert, upsert
from beffroi.telemetry import pg_writer, sqlite_writer
from beffroi.telemetry.batch import Batch, NewestOf, Written, telemetry_events
from beffroi.telemetry.decode import Event, Rejection, Status
from beffroi.telemetry.events import (
    CommandReplyReceived,
    ConnectivityChanged,
    DeviceEventReceived,
)
from beffroi.telemetry.models import DeviceEvent, DeviceStatus, RejectedMessage, RejectionCount
from beffroi.telemetry.observers import BatchObserver, Newest, Seen
from beffroi.telemetry.partitions import PartitionManager
from beffroi.telemetry.rejects import sample

# What the store takes and answers, and what its observers see, are imported from here by
# the gateway and the areas that follow the stream.
__all__ = ["Batch", "BatchObserver", "Newest", "Seen", "TelemetryStore", "Written"]

CHUNK = 900
# What a batch awaits before writing what other batches write too (see TelemetryStore.write).
Turn = Callable[[], Awaitable[Any]]
REJECTION_SAMPLES_PER_BATCH = 50


class TelemetryStore:
    """Writes batches; holds the per-process partition cache."""

    def __init__(
        self,
        db: Database,
        observers: Sequence[BatchObserver] = (),
        *,
        readings_wanted: Callable[[], bool] = lambda: True,
    ) -> None:
        self.db = db
        self.observers = list(observers)
        # Whether the readings that moved a latest value become hub events, asked per batch
        # (a gateway on its own has no one to read them: they do not leave its process).
        self.readings_wanted = readings_wanted
        self.partitions = PartitionManager()
        self.dialect = db.url.get_backend_name()

    async def write(
        self, batch: Batch, now: datetime | None = None, *, turn: Turn | None = None
    ) -> Written:
        """Write ``batch`` in one transaction; returns the events to publish after it.

        ``turn`` is awaited, inside the transaction, before the batch writes anything that
        other batches write too (latest values, device states, commands, alarms): the
        gateway has the batch before commit meanwhile, while this one's points go in.
        """
        try:
            return await self._write(batch, now or utcnow(), turn)
        except DBAPIError as exc:
            # A partition this process remembers was dropped (retention, by hand): forget
            # what it knew and try once more, creating what is missing.
            if "no partition of relation" not in str(exc):
                raise
            self.partitions.forget()
            return await self._write(batch, now or utcnow(), turn)

    async def _write(self, batch: Batch, now: datetime, turn: Turn | None) -> Written:
        events: list[DomainEvent] = []
        points = 0
        refused: list[Rejection] = []
        newest: Newest = {}
        every: list[tuple[Any, ...]] = []
        if batch.readings and self.dialect == "postgresql":
            days = {p[1].date() for r in batch.readings for p in r.points}
            await self.partitions.ensure(self.db.engine, days)
        async with self.db.write() as session:
            driver = None
            if batch.readings and self.dialect == "postgresql":
                driver = await _driver(session)
                await pg_writer.insert_points(driver, batch.reduced().points)
            if turn is not None:
                await turn()
            if batch.readings:
                reduced = batch.reduced()
                newest = NewestOf(reduced)
                every = reduced.points
                points = len(reduced.points)
                if driver is not None:
                    events += await self._latest_pg(driver, now)
                else:
                    events += await sqlite_writer.write_readings(
                        session, reduced, now, changes=self.readings_wanted()
                    )
            events += await self._statuses(session, batch.statuses)
            events += await self._events(session, batch.events, now)
            seen = Seen(
                batch.replies,
                newest,
                [e for e in events if isinstance(e, DeviceEventReceived)],
                [e for e in events if isinstance(e, ConnectivityChanged)],
                every,
            )
            for observer in self.observers if seen else ():
                observed = await observer.observe(session, seen, now)
                events += observed.events
                refused += observed.rejections
            await self._rejections(session, [*batch.rejections, *refused], now)
        events += [
            CommandReplyReceived(r.asset_id, r.command_id, r.status, r.detail, r.ts, r.via)
            for r in batch.replies
        ]
        return Written(points, events, refused)

    async def _latest_pg(self, driver: Any, now: datetime) -> list[DomainEvent]:
        changed, online = await pg_writer.write_latest(driver, now, changes=self.readings_wanted())
        return [
            *telemetry_events(
                (r["asset_id"], r["key"], r["ts"], r["value"], r["text"]) for r in changed
            ),
            *(ConnectivityChanged(a, True, now, "telemetry") for a in online),
        ]

    async def _statuses(
        self, session: AsyncSession, statuses: Sequence[Status]
    ) -> list[DomainEvent]:
        if not statuses:
            return []
        latest: dict[str, Status] = {}
        for status in statuses:
            latest[status.asset_id] = status
        before: dict[str, bool] = {}
        # In parts: a cabinet going offline takes its children with it, and a whole city's
        # at once would pass more values than one statement takes.
        for part in parts(session, sorted(latest)):
            query = select(DeviceStatus.asset_id, DeviceStatus.online)
            rows = await session.execute(query.where(among(session, DeviceStatus.asset_id, part)))
            before.update((row.asset_id, row.online) for row in rows)
        stmt = dialect_insert(session, DeviceStatus)
        stmt = stmt.on_conflict_do_update(
            index_elements=["asset_id"],
            set_={
                "online": stmt.excluded.online,
                "since": stmt.excluded.since,
                "reason": stmt.excluded.reason,
                # A will message says nothing of the firmware: keep what was known.
                "firmware": func.coalesce(stmt.excluded.firmware, DeviceStatus.firmware),
                "via": stmt.excluded.via,
                "bulk": stmt.excluded.bulk,
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
                    "bulk": s.bulk,
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
    ) -> list[DomainEvent]:
        if not events:
            return []
        stmt = (
            dialect_insert(session, DeviceEvent)
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
        rows = [{"reason": k, "hour": hour, "count": v} for k, v in sorted(counts.items())]
        await upsert(session, RejectionCount, rows, keys=["reason", "hour"], add=["count"])


async def _driver(session: AsyncSession) -> Any:
    """The session's driver connection, inside the session's transaction."""
    conn = await session.connection()
    # SQLAlchemy opens the transaction lazily, on its first statement: without one first,
    # each driver call would commit on its own and the staging tables empty themselves.
    await conn.exec_driver_sql("SELECT 1")
    raw = await conn.get_raw_connection()
    return raw.driver_connection
