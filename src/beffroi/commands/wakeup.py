"""Waking the dispatcher of another process when a command is ready to go.

In one process (the demo, tests) the event hub wakes the dispatcher. Between processes
on PostgreSQL, the transaction that queues a command also sends ``NOTIFY``, delivered at
its commit; the dispatcher ``LISTEN``s on a connection of its own. Elsewhere (SQLite) the
dispatcher's poll interval is the bound on the delay.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.db import Database

log = structlog.get_logger(__name__)

CHANNEL = "beffroi_commands"
# A plain loop, not a retry library: listening never ends in success, and a connection
# that ends is reconnected after the same pause as one that fails.
RECONNECT_S = 2.0


async def notify(session: AsyncSession) -> None:
    """Announce queued commands when this transaction commits (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"NOTIFY {CHANNEL}"))


def _setter(event: asyncio.Event) -> Callable[[object], None]:
    return lambda _conn: event.set()


async def listen(db: Database, wake: Callable[[], None]) -> None:
    """Call ``wake`` on every notification until cancelled; reconnects when the database
    goes away. Returns at once on a database without notifications."""
    if not db.is_postgres:
        return
    dsn = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
    while True:
        conn: asyncpg.Connection | None = None
        try:
            conn = await asyncpg.connect(dsn)
            lost = asyncio.Event()
            conn.add_termination_listener(_setter(lost))
            await conn.add_listener(CHANNEL, lambda *_args: wake())
            wake()  # commands may have been queued while nobody listened
            await lost.wait()
            log.warning("command notifications lost; listening again")
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("cannot listen for command notifications", error=str(exc)[:200])
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close(timeout=2)
        await asyncio.sleep(RECONNECT_S)
