"""The PostgreSQL path of the telemetry store: a batch's points by one ``COPY`` into a
per-connection staging table, then one set-based statement each for the points, the latest
values and the devices' last-seen times.

This is the ingest hot path: going through the driver directly here (inside the
SQLAlchemy transaction) instead of the ORM is what lets one gateway process keep up with
tens of thousands of points a second (bench/ingest).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

STAGING = """
CREATE TEMP TABLE IF NOT EXISTS stage_points
    (asset_id text, key text, ts timestamptz, value float8, text text) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_seen
    (asset_id text, last timestamptz) ON COMMIT DELETE ROWS;
"""
COLUMNS = ["asset_id", "key", "ts", "value", "text"]

COPY_POINTS = """
INSERT INTO telemetry_points (asset_id, key, ts, value, text)
SELECT asset_id, key, ts, value, text FROM stage_points
"""
# A message delivered again: the points already there are skipped.
INSERT_NEW_POINTS = COPY_POINTS + "ON CONFLICT DO NOTHING"
# The newest value of each key and the last time each device spoke are worked out by the
# server from the points it already holds: the gateway sends the batch once.
UPSERT_LATEST = """
INSERT INTO latest_values (asset_id, key, ts, value, text)
SELECT DISTINCT ON (asset_id, key) asset_id, key, ts, value, text FROM stage_points
 ORDER BY asset_id, key, ts DESC
ON CONFLICT (asset_id, key) DO UPDATE
    SET ts = EXCLUDED.ts, value = EXCLUDED.value, text = EXCLUDED.text
    WHERE latest_values.ts < EXCLUDED.ts
"""
LAST_SEEN = """
INSERT INTO stage_seen (asset_id, last)
SELECT asset_id, max(ts) FROM stage_points GROUP BY asset_id
"""
# Only when someone listens to readings: at ingest rates, sending every changed value back
# costs the gateway more than storing it.
RETURNING_LATEST = "RETURNING asset_id, key, ts, value, text"
WAKE = """
UPDATE device_status d
   SET online = true, since = $1, reason = 'telemetry',
       last_seen_at = GREATEST(d.last_seen_at, s.last)
  FROM stage_seen s
 WHERE d.asset_id = s.asset_id AND NOT d.online
RETURNING d.asset_id
"""
# last_seen_at is kept to the minute: silence timeouts are minutes long, and rewriting the
# row of every device on every batch would double the write load for nothing.
TOUCH = """
INSERT INTO device_status (asset_id, online, since, reason, last_seen_at)
SELECT asset_id, true, $1, 'telemetry', last FROM stage_seen
ON CONFLICT (asset_id) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at
 WHERE device_status.last_seen_at IS NULL
    OR device_status.last_seen_at < EXCLUDED.last_seen_at - interval '60 seconds'
RETURNING asset_id, (xmax = 0) AS inserted
"""


async def _points(driver: Any) -> None:
    """The staged points into their table, the cheap way; when some are there already (a
    message delivered again), skipping those."""
    await driver.execute("SAVEPOINT points")
    try:
        await driver.execute(COPY_POINTS)
    except asyncpg.UniqueViolationError:
        await driver.execute("ROLLBACK TO SAVEPOINT points")
        await driver.execute(INSERT_NEW_POINTS)
    await driver.execute("RELEASE SAVEPOINT points")


async def insert_points(driver: Any, points: Sequence[tuple[Any, ...]]) -> None:
    """Stage a batch's points and write them: what no other batch writes, so it may run
    while the batch before is still open."""
    await driver.execute(STAGING)
    await driver.copy_records_to_table("stage_points", records=points, columns=COLUMNS)
    await _points(driver)


async def write_latest(
    driver: Any, now: datetime, *, changes: bool = True
) -> tuple[list[Any], list[str]]:
    """From the staged points, the latest values and last-seen times (what batches share:
    the batch before must have committed).

    Returns the latest-value rows that moved forward (none unless ``changes``) and the
    devices that came online (first seen, or back from offline).
    """
    changed: list[Any] = []
    if changes:
        changed = await driver.fetch(UPSERT_LATEST + RETURNING_LATEST)
    else:
        await driver.execute(UPSERT_LATEST)
    await driver.execute(LAST_SEEN)
    woke = [r["asset_id"] for r in await driver.fetch(WAKE, now)]
    fresh = [r["asset_id"] for r in await driver.fetch(TOUCH, now) if r["inserted"]]
    return changed, [*fresh, *woke]
