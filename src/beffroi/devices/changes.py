"""Credential changes, numbered: how brokers learn of them at once, and say they applied them.

Every issue, rotation and revocation takes the next number of ``credential_head`` in its
transaction and stamps it on the rows it changed. Each process that enforces credentials
(the embedded broker, the keeper of Mosquitto's files) polls that one number a few times
a second, reads the rows above what it applied, applies them (new secrets, sessions ended)
and reports the number it reached in ``credential_followers``. The command that made the
change waits for the followers to report it, so "revoked" is printed once every running
broker refuses the old secret and has ended the device's session.

Polling one primary-key row works the same on SQLite (no NOTIFY) and PostgreSQL, across
processes, and costs one tiny query per follower per poll.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.time import utcnow
from beffroi.db import Database
from beffroi.db.upsert import upsert
from beffroi.devices.models import CredentialFollower, CredentialHead

HEAD_ID = 1
# How often a follower looks at the head; a change is applied within about this long.
POLL_S = 0.2
# A follower reports it is alive at least this often, even when nothing changes.
HEARTBEAT_S = 10.0
# A change waits only for followers heard from this recently (a stopped broker is not
# waited for: it loads everything when it starts again).
ALIVE_S = 3 * HEARTBEAT_S
# How long a command waits for the followers before saying which did not confirm.
WAIT_S = 5.0


async def next_seq(session: AsyncSession) -> int:
    """Take the next change number in the caller's transaction.

    The head row stays locked until the caller commits, so changes commit in the order of
    their numbers and a follower that read N cannot later see a change numbered below N.
    """
    result = await session.execute(
        update(CredentialHead)
        .where(CredentialHead.id == HEAD_ID)
        .values(seq=CredentialHead.seq + 1)
        .returning(CredentialHead.seq)
    )
    seq: int = result.scalar_one()
    return seq


async def head_in(session: AsyncSession) -> int:
    """The number of the latest committed change, read in ``session``."""
    value = (
        await session.execute(select(CredentialHead.seq).where(CredentialHead.id == HEAD_ID))
    ).scalar_one()
    return int(value)


async def head(db: Database) -> int:
    """The number of the latest committed change."""
    async with db.read() as session:
        return await head_in(session)


async def report(db: Database, name: str, seq: int) -> None:
    """Record that follower ``name`` applied every change up to ``seq`` and is alive."""
    async with db.write() as session:
        await upsert(
            session,
            CredentialFollower,
            [{"name": name, "seq": seq, "seen_at": utcnow()}],
            keys=["name"],
            update=["seq", "seen_at"],
        )


async def forget(db: Database, name: str) -> None:
    """A follower that stops says so, so no change waits for it."""
    async with db.write() as session:
        await session.execute(
            update(CredentialFollower)
            .where(CredentialFollower.name == name)
            .values(seen_at=utcnow() - timedelta(seconds=2 * ALIVE_S))
        )


@dataclass(frozen=True, slots=True)
class Applied:
    """Which live followers applied a change in time, and which did not."""

    seq: int
    confirmed: tuple[str, ...]
    late: tuple[str, ...]


async def wait_applied(db: Database, seq: int, timeout_s: float = WAIT_S) -> Applied:
    """Wait until every live follower applied change ``seq`` (or ``timeout_s`` passed)."""
    deadline = time.monotonic() + timeout_s
    while True:
        async with db.read() as session:
            rows = (
                await session.execute(
                    select(CredentialFollower.name, CredentialFollower.seq).where(
                        CredentialFollower.seen_at >= utcnow() - timedelta(seconds=ALIVE_S)
                    )
                )
            ).all()
        confirmed = tuple(sorted(r.name for r in rows if r.seq >= seq))
        late = tuple(sorted(r.name for r in rows if r.seq < seq))
        if not late or time.monotonic() >= deadline:
            return Applied(seq, confirmed, late)
        await asyncio.sleep(POLL_S / 4)
