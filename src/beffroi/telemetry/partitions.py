"""Daily partitions of ``telemetry_points`` on PostgreSQL.

Partitions are created on demand for the days a batch touches, ahead of time by the
maintenance job, and dropped whole when they pass the retention (no row-by-row delete).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

PARENT = "telemetry_points"
PREFIX = f"{PARENT}_p"
# Any stable 64-bit number: serialises partition DDL between gateway processes.
DDL_LOCK = 0x62_65_66_66_72_6F_69


def partition_name(day: date) -> str:
    """The partition holding ``day``."""
    return f"{PREFIX}{day:%Y%m%d}"


class PartitionManager:
    """Creates the partitions a write needs, remembering which exist.

    Partitions are created in a transaction of their own, committed before the batch
    that needs them: a batch that rolls back must not take its partition with it while
    this cache believes it exists.
    """

    def __init__(self) -> None:
        self._known: set[date] = set()

    async def ensure(self, engine: AsyncEngine, days: Iterable[date]) -> None:
        """Create any missing daily partition for ``days``."""
        missing = sorted(set(days) - self._known)
        if not missing:
            return
        async with engine.begin() as conn:
            await create(conn, missing)
        self._known |= set(missing)

    def forget(self) -> None:
        """Drop what is remembered; the next write checks the database again."""
        self._known.clear()


async def create(conn: AsyncConnection, days: Iterable[date]) -> None:
    """Create the daily partitions of ``days`` that do not exist yet."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": DDL_LOCK})
    existing = set(await list_partitions(conn))
    for day in sorted(set(days) - existing):
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = start + timedelta(days=1)
        await conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {partition_name(day)} PARTITION OF {PARENT} "
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
        )


async def list_partitions(conn: AsyncConnection) -> list[date]:
    """The days that have a partition."""
    rows = await conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :parent"
        ),
        {"parent": PARENT},
    )
    days = []
    for (name,) in rows:
        try:
            days.append(date.fromisoformat(name.removeprefix(PREFIX)))
        except ValueError:
            continue
    return sorted(days)


async def drop_before(conn: AsyncConnection, cutoff: date) -> list[str]:
    """Drop the partitions of days before ``cutoff``; returns their names."""
    dropped = []
    await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": DDL_LOCK})
    for day in await list_partitions(conn):
        if day < cutoff:
            name = partition_name(day)
            await conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
            dropped.append(name)
    return dropped
