"""Which instance runs a job: each job is held by one scheduler instance at a time.

- PostgreSQL: a session-level advisory lock per job (``pg_try_advisory_lock``), taken on
  one connection the instance keeps for it. The instance holding a job's lock runs it;
  the others try again every few seconds and take it over when that instance stops or
  dies (PostgreSQL releases the locks of a closed session). Before each run the holder
  checks, on that connection, that it still holds the lock. Nothing is written: no table,
  no migration. The connection must be a real session (not a transaction-pooling
  PgBouncer, which would drop session locks between statements).
- SQLite (one machine): an exclusive ``flock`` on a file beside the database, which the
  system releases when the process ends; the instance holding it runs every job. Two
  schedulers in one process on one file exclude each other the same way.
- A database without a file (in memory): the only instance runs everything.

A lock held per job, rather than per run, is what makes "once per due time" hold: a
lock taken for the length of a run would let a second instance, waking a moment later,
run the same due time again once the first had finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import zlib
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

import structlog
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from beffroi.db import Database

log = structlog.get_logger(__name__)

# First key of the two-int advisory locks: "bfsc", Beffroi's scheduler.
NAMESPACE = 0x62_66_73_63


def lock_key(name: str) -> int:
    """The second key of ``name``'s advisory lock (31 bits, so pg_locks shows it as is)."""
    return zlib.crc32(name.encode()) & 0x7FFF_FFFF


class Claims(Protocol):
    """Who holds which job; used as an async context manager around the runner."""

    async def hold(self, name: str) -> bool:
        """Take ``name``, or check it is still ours; whether this instance may run it."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class _Releasing:
    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.release()

    async def release(self) -> None:
        """Let go of every job."""


class SoleClaims(_Releasing):
    """The only instance there can be: it holds every job."""

    async def hold(self, name: str) -> bool:
        """Always ours."""
        return True


class FileClaims(_Releasing):
    """Every job, held through an exclusive lock on one file (SQLite, one machine)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    async def hold(self, name: str) -> bool:
        """Whether this instance holds the file (taking it if free)."""
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        log.info("scheduler holds the jobs of this database", lock=str(self.path))
        return True

    async def release(self) -> None:
        """Unlock and close the file (left in place: removing it would race a taker)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class PostgresClaims(_Releasing):
    """One advisory lock per job on a connection of this instance's own."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: AsyncConnection | None = None
        self._held: set[str] = set()
        # The job loops share the connection, which runs one statement at a time.
        self._busy = asyncio.Lock()

    async def hold(self, name: str) -> bool:
        """Take ``name``'s lock if free, or check it is still held; False when the
        database cannot be reached (the connection is then opened again next time)."""
        async with self._busy:
            try:
                conn = await self._connection()
                if name in self._held:
                    still = await conn.scalar(
                        text(
                            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
                            " AND pid = pg_backend_pid() AND granted AND objsubid = 2"
                            " AND classid = :ns AND objid = :key)"
                        ),
                        {"ns": NAMESPACE, "key": lock_key(name)},
                    )
                    if not still:
                        self._held.discard(name)
                    return bool(still)
                got = await conn.scalar(
                    text("SELECT pg_try_advisory_lock(:ns, :key)"),
                    {"ns": NAMESPACE, "key": lock_key(name)},
                )
            except (SQLAlchemyError, OSError) as exc:
                await self._drop(exc)
                return False
            if got:
                self._held.add(name)
            return bool(got)

    async def _connection(self) -> AsyncConnection:
        if self._conn is None:
            conn = await self.db.engine.connect()
            # Autocommit: no transaction is left open while the locks are held.
            self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    async def _drop(self, exc: BaseException) -> None:
        """The connection failed: its locks are gone with it (or will be)."""
        if self._held:
            log.warning(
                "scheduler lost its database session", jobs=sorted(self._held), error=str(exc)
            )
        self._held.clear()
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.invalidate()
            self._conn = None

    async def release(self) -> None:
        """Unlock every job and give the connection back."""
        async with self._busy:
            if self._conn is None:
                return
            try:
                await self._conn.execute(text("SELECT pg_advisory_unlock_all()"))
                await self._conn.close()
            except (SQLAlchemyError, OSError) as exc:
                await self._drop(exc)
            self._conn = None
            self._held.clear()


def claims_for(db: Database) -> Claims:
    """The claims that fit ``db``: advisory locks on PostgreSQL, a file lock beside a
    SQLite file, and none needed for an in-memory database."""
    if db.is_postgres:
        return PostgresClaims(db)
    database = db.url.database
    if db.is_sqlite and database and database != ":memory:" and not database.startswith("file:"):
        return FileClaims(Path(f"{database}.scheduler-lock"))
    return SoleClaims()
