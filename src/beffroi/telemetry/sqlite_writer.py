"""Readings into SQLite: points (a redelivered one changes nothing), the latest value of
each key (newest timestamp wins), and the devices that spoke. PostgreSQL's way, through
``COPY`` and staging tables, is :mod:`beffroi.telemetry.pg_writer`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.events import DomainEvent
from beffroi.db import Base
from beffroi.db.upsert import dialect_insert, upsert
from beffroi.telemetry.batch import Reduced, telemetry_events
from beffroi.telemetry.events import ConnectivityChanged
from beffroi.telemetry.models import DeviceStatus, LatestValue, TelemetryPoint

CHUNK = 900
POINT_COLUMNS = ("asset_id", "key", "ts", "value", "text")


async def write_readings(
    session: AsyncSession, reduced: Reduced, now: datetime, *, changes: bool = True
) -> list[DomainEvent]:
    """Store a batch's readings; the events of the values (only if ``changes``) and
    devices they changed."""
    params = [dict(zip(POINT_COLUMNS, row, strict=True)) for row in reduced.points]
    for start in range(0, len(params), 5000):
        await upsert(session, TelemetryPoint, params[start : start + 5000], keys=POINT_COLUMNS[:3])
    events = await _latest(session, reduced, changes)
    events += await _seen(session, reduced.last_seen, now)
    return events


async def _latest(session: AsyncSession, reduced: Reduced, changes: bool) -> list[DomainEvent]:
    params = [
        {"asset_id": a, "key": k, "ts": ts, "value": v, "text": t}
        for (a, k), (ts, v, t) in reduced.newest.items()
    ]
    table = LatestValue.__table__
    insert = dialect_insert(session, LatestValue)
    stmt = insert.on_conflict_do_update(
        index_elements=["asset_id", "key"],
        set_={
            "ts": insert.excluded.ts,
            "value": insert.excluded.value,
            "text": insert.excluded.text,
        },
        # Latest is decided by the device's timestamp: a late, older reading loses.
        where=table.c.ts < insert.excluded.ts,
    )
    returning = stmt.returning(
        table.c.asset_id, table.c.key, table.c.ts, table.c.value, table.c.text
    )
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(params), CHUNK):
        part = params[start : start + CHUNK]
        if not changes:
            await session.execute(stmt, part)
            continue
        rows += [tuple(row) for row in await session.execute(returning, part)]
    return telemetry_events(rows)


async def _seen(
    session: AsyncSession, last: dict[str, datetime], now: datetime
) -> list[DomainEvent]:
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
            await upsert(session, DeviceStatus, rows_in[start : start + CHUNK], keys=["asset_id"])
    for start in range(0, len(woke), CHUNK):
        await session.execute(
            update(DeviceStatus)
            .where(DeviceStatus.asset_id.in_(woke[start : start + CHUNK]))
            .values(online=True, since=now, reason="telemetry")
        )
    seen = [a for a in ids if a in known]
    if seen:
        await _touch(session, seen, last)
    return [ConnectivityChanged(a, True, now, "telemetry") for a in [*fresh, *woke]]


async def _touch(session: AsyncSession, ids: list[str], last: dict[str, datetime]) -> None:
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
