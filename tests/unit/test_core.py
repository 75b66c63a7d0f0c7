"""The core's use-case helper and periodic loop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from beffroi import migrations
from beffroi.config import load_settings
from beffroi.core.audit import AuditEntry
from beffroi.core.context import Runtime
from beffroi.core.errors import Conflict
from beffroi.core.events import DomainEvent
from beffroi.core.tasks import every
from beffroi.core.usecase import change
from beffroi.db import Database


@dataclass(frozen=True, slots=True)
class Done(DomainEvent):
    """A thing was done (an event of these tests only, not registered)."""

    what: str


DONE = Done("thing")


@pytest.fixture
async def runtime(tmp_path: Path) -> Runtime:
    url = f"sqlite+aiosqlite:///{tmp_path / 'core.db'}"
    await asyncio.to_thread(migrations.upgrade, url)
    return Runtime(load_settings(database_url=url, data_dir=tmp_path), Database(url))


async def test_a_use_case_commits_audits_then_publishes(runtime: Runtime) -> None:
    ctx = runtime.system_context("tests")
    seen = runtime.events.subscribe()
    async with change(ctx, "thing.do", target_type="thing", target_id=7) as uc:
        uc.audit(commune="talant", reason="because", details={"n": 1})
        uc.publish(DONE)
        assert seen.queue.empty(), "nothing is published before the commit"
    assert seen.get_nowait() == DONE
    async with runtime.db.read() as session:
        [entry] = (await session.execute(select(AuditEntry))).scalars()
    assert (entry.action, entry.target_id, entry.commune_code, entry.reason) == (
        "thing.do",
        "7",
        "talant",
        "because",
    )
    await runtime.db.dispose()


async def test_a_refused_use_case_writes_nothing_but_its_refusal(runtime: Runtime) -> None:
    ctx = runtime.system_context("tests")
    seen = runtime.events.subscribe()

    async def refused() -> None:
        async with change(ctx, "thing.do", target_type="thing", target_id=7) as uc:
            uc.audit(commune="talant")
            uc.publish(DONE)
            raise Conflict("it is already done")

    with pytest.raises(Conflict):
        await refused()
    assert seen.queue.empty()
    async with runtime.db.read() as session:
        entries = (await session.execute(select(AuditEntry))).scalars().all()
    assert [(e.action, e.outcome, e.details["error"]) for e in entries] == [
        ("thing.do.refused", "denied", "it is already done")
    ]
    await runtime.db.dispose()


async def test_every_runs_survives_failures_and_stops_at_once() -> None:
    stop = asyncio.Event()
    runs = 0

    async def job() -> None:
        nonlocal runs
        runs += 1
        if runs == 2:
            raise RuntimeError("a bad run")
        if runs == 4:
            stop.set()

    await asyncio.wait_for(every(0.01, job, stop, at_once=True), 5)
    assert runs == 4, "the failed run did not end the loop"
    late = asyncio.Event()
    task = asyncio.create_task(every(3600, job, late))
    await asyncio.sleep(0)
    late.set()
    await asyncio.wait_for(task, 1)  # stopping interrupts the wait
    assert runs == 4
