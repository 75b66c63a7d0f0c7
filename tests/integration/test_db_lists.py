"""Id sets in queries (``beffroi.db.lists``): the same rows whatever their number, on both
databases, and ingestion that lets a backlog of commands leave first."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from beffroi.commands import dispatcher
from beffroi.commands.dispatcher import CommandDispatcher
from beffroi.commands.tracker import CommandTracker
from beffroi.communes.models import Commune
from beffroi.core.context import Runtime
from beffroi.db.lists import SQLITE_PART, among, parts


async def test_a_set_larger_than_sqlites_parameter_limit_finds_exactly_its_rows(
    runtime: Runtime,
) -> None:
    async with runtime.db.read() as session:
        real = set((await session.execute(select(Commune.code))).scalars())
        assert real, "the template seeds the communes"
        wanted = sorted(real)[::2]
        asked = [*wanted, *(f"nowhere-{n}" for n in range(2 * SQLITE_PART))]
        found: list[str] = []
        slices = list(parts(session, asked))
        for part in slices:
            rows = await session.execute(
                select(Commune.code).where(among(session, Commune.code, part))
            )
            found += rows.scalars()
    assert sorted(found) == wanted
    assert sum(len(p) for p in slices) == len(asked)
    assert len(slices) == (1 if runtime.db.url.get_backend_name() == "postgresql" else 3)


async def test_an_empty_set_finds_nothing(runtime: Runtime) -> None:
    async with runtime.db.read() as session:
        assert list(parts(session, [])) == []
        rows = await session.execute(select(Commune.code).where(among(session, Commune.code, [])))
        assert rows.all() == []


async def test_ingestion_waits_for_a_backlog_of_commands_but_not_forever(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = CommandTracker(root="beffroi/v1", verify_window=timedelta(minutes=5))
    sender = CommandDispatcher(
        runtime.db, runtime.events, lambda _t, _p: None, tracker, root="beffroi/v1"
    )
    await asyncio.wait_for(sender.sent_first(), 1)  # nothing leaving: no wait at all

    sender._clear.clear()  # rounds of sends follow one another
    waiting = asyncio.create_task(sender.sent_first())
    await asyncio.sleep(0.05)
    assert not waiting.done()
    sender._clear.set()
    await asyncio.wait_for(waiting, 1)

    monkeypatch.setattr(dispatcher, "PRECEDENCE_MAX_S", 0.05)
    sender._clear.clear()
    await asyncio.wait_for(sender.sent_first(), 1)  # ingestion is never starved
