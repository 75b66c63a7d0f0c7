"""Helpers shared by tests: people with tokens."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import IO

from sqlalchemy import func, select

from beffroi.accounts import service as accounts
from beffroi.accounts import tokens
from beffroi.accounts.models import User
from beffroi.accounts.schemas import TokenCreate, UserCreate
from beffroi.assets.importing import import_assets
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.catalogue import Domain
from beffroi.core.audit import AuditEntry
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.tables import Base
from beffroi.video.models import Habilitation

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True, slots=True)
class Person:
    """A test user and the bearer header that acts as them."""

    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}


async def register_streetlights(system: Context, ids: list[str], commune: str = "talant") -> None:
    """Streetlights ``ids`` in ``commune``, without a cabinet."""
    items = [
        AssetCreate(
            id=light,
            type="streetlight",
            name=light,
            commune=commune,
            location=Point(coordinates=(5.0, 47.33)),
        )
        for light in ids
    ]
    await import_assets(system, list(enumerate(items, 1)))


async def make_person(
    system: Context,
    username: str,
    roles: list[Role],
    communes: list[str] | None = None,
    domains: list[Domain] | None = None,
) -> Person:
    """Create an account and a token for it."""
    await accounts.create_user(
        system,
        UserCreate(
            username=username,
            password=PASSWORD,
            roles=roles,
            communes=communes,
            domains=domains or ([Domain.LIGHTING] if Role.OPERATOR in roles else []),
        ),
    )
    _, secret = await tokens.create_token(system, TokenCreate(name="tests", username=username))
    return Person(username, secret)


async def audit_seq(runtime: Runtime) -> int:
    """The sequence number of the last audit entry (0 when there is none)."""
    async with runtime.db.read() as session:
        return int(await session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0))) or 0)


async def audited_since(runtime: Runtime, seq: int) -> list[AuditEntry]:
    """The audit entries appended after ``seq``, oldest first."""
    async with runtime.db.read() as session:
        stmt = select(AuditEntry).where(AuditEntry.seq > seq).order_by(AuditEntry.seq)
        return list((await session.execute(stmt)).scalars())


async def table_rows(runtime: Runtime, *tables: str) -> dict[str, list[str]]:
    """Every row of each table, as text in a stable order: equal before and after a
    refused change when it wrote nothing."""
    async with runtime.db.read() as session:
        return {
            name: sorted(
                repr(tuple(row))
                for row in await session.execute(select(Base.metadata.tables[name]))
            )
            for name in tables
        }


async def run_cli(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``beffroi ARGS`` in a subprocess (off the event loop) and capture its output."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "beffroi", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def habilitate(
    runtime: Runtime,
    username: str,
    *,
    start: timedelta = timedelta(days=-1),
    end: timedelta = timedelta(days=30),
    cameras: tuple[str, ...] = (),
) -> None:
    """Record a video habilitation for ``username`` (valid from now + ``start`` to now +
    ``end``, covering ``cameras``), straight in the table: without one a video agent sees
    no camera."""
    now = utcnow()
    async with runtime.db.write() as session:
        user_id = await session.scalar(select(User.id).where(User.username == username))
        assert user_id is not None, username
        session.add(
            Habilitation(
                user_id=user_id,
                authority="Préfecture de la Côte-d'Or",
                reference="arrêté test",
                communes=[],
                cameras=list(cameras),
                valid_from=now + start,
                valid_until=now + end,
                created_by="tests",
            )
        )


class Drained(list[str]):
    """The lines read so far from a stream read in a thread of its own."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self._thread = threading.Thread(target=self.extend, args=(stream,), daemon=True)
        self._thread.start()

    def to_the_end(self, timeout_s: float = 10.0) -> list[str]:
        """Every line, once the stream ended (its process exited)."""
        self._thread.join(timeout_s)
        return list(self)


def drain(stream: IO[str]) -> Drained:
    """Read ``stream`` to its end in a thread of its own, keeping its lines: a process
    whose output nobody reads blocks once the pipe is full (64 KiB)."""
    return Drained(stream)
