"""The core's use-case helper, periodic loop and process wiring."""

from __future__ import annotations

import asyncio
import os
import signal
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
from beffroi.core.process import Process
from beffroi.core.process import run as process_run
from beffroi.core.tasks import cancel_all, every
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
        assert seen.empty(), "nothing is published before the commit"
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
    assert seen.empty()
    async with runtime.db.read() as session:
        entries = (await session.execute(select(AuditEntry))).scalars().all()
    assert [(e.action, e.outcome, e.details["error"]) for e in entries] == [
        ("thing.do.refused", "denied", "it is already done")
    ]
    await runtime.db.dispose()


async def test_a_refusal_names_what_was_asked_and_an_entry_may_name_another_action(
    runtime: Runtime,
) -> None:
    ctx = runtime.system_context("tests")

    async def refused() -> None:
        async with change(
            ctx, "thing.retry", target_type="thing", target_id=7, refused_details={"name": "x"}
        ):
            raise Conflict("nothing to retry")

    with pytest.raises(Conflict):
        await refused()
    async with change(
        ctx, "thing.retry", target_type="thing", target_id=7, refused_details={"name": "x"}
    ) as uc:
        uc.audit(action="thing.create", target_id=8, details={"retry_of": 7})
    async with runtime.db.read() as session:
        entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.seq))).scalars()
        seen = [(e.action, e.target_type, e.target_id, e.outcome, e.details) for e in entries]
    assert seen == [
        ("thing.retry.refused", "thing", "7", "denied", {"error": "nothing to retry", "name": "x"}),
        ("thing.create", "thing", "8", "success", {"retry_of": 7}),
    ]
    await runtime.db.dispose()


async def test_a_use_case_holds_no_connection_before_its_first_statement(
    runtime: Runtime,
) -> None:
    # What a use case does before it writes (reads, a message sent) must not hold the
    # write lock: on SQLite another writer would wait for it, here for ever.
    ctx = runtime.system_context("tests")
    async with change(ctx, "thing.do", target_type="thing", target_id=7) as uc:
        async with asyncio.timeout(5):
            async with change(ctx, "thing.other") as other:
                other.audit()
        uc.audit()
    async with runtime.db.read() as session:
        actions = (
            await session.execute(select(AuditEntry.action).order_by(AuditEntry.seq))
        ).scalars()
        assert list(actions) == ["thing.other", "thing.do"]
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


async def test_cancel_all_ends_every_task_even_one_that_finished() -> None:
    ended: list[str] = []

    async def waiting(name: str) -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            ended.append(name)

    done = asyncio.create_task(asyncio.sleep(0))
    await done
    tasks = [asyncio.create_task(waiting("a")), done, asyncio.create_task(waiting("b"))]
    await asyncio.sleep(0)
    await cancel_all(tasks)
    assert sorted(ended) == ["a", "b"]
    assert all(t.done() for t in tasks)


async def test_a_process_stops_cleanly_and_fails_with_its_task_s_error() -> None:
    stopped_cleanly: list[str] = []

    async def until_stopped(name: str, stop: asyncio.Event) -> None:
        await stop.wait()
        stopped_cleanly.append(name)

    async def fails() -> None:
        await asyncio.sleep(0)
        raise LookupError("the broker is gone")

    async def three(stop: asyncio.Event) -> None:
        async with Process(stop) as process:
            process.start("a", until_stopped("a", stop))
            process.start("b", until_stopped("b", stop))
            process.start("fails", fails())

    stop = asyncio.Event()
    with pytest.raises(LookupError, match="the broker is gone"):  # itself, not a group
        await three(stop)
    assert stop.is_set()
    assert sorted(stopped_cleanly) == ["a", "b"], "the others were cancelled, not stopped"


async def test_an_essential_task_ending_stops_the_process() -> None:
    runs = 0

    async def job() -> None:
        nonlocal runs
        runs += 1

    async with Process() as process:
        process.every("job", 0.01, job, at_once=True)
        process.start("api", asyncio.sleep(0.05), essential=True)
        process.start("plain", asyncio.sleep(0))  # ending stops nothing
    assert process.stop.is_set()
    assert runs >= 1


async def test_a_process_cancels_what_does_not_stop_in_time() -> None:
    cancelled = asyncio.Event()

    async def deaf() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    stop = asyncio.Event()
    async with asyncio.timeout(5), Process(stop, grace_s=0.05) as process:
        process.start("deaf", deaf())
        stop.set()
    assert cancelled.is_set()


async def test_a_failing_block_stops_the_tasks_and_raises_its_own_error() -> None:
    started: list[asyncio.Task[None]] = []

    async def fails(stop: asyncio.Event) -> None:
        async with Process(stop) as process:
            started.append(process.start("waits", stop.wait()))
            raise TimeoutError

    stop = asyncio.Event()
    with pytest.raises(TimeoutError):
        await fails(stop)
    assert stop.is_set()
    assert started[0].done()
    assert not started[0].cancelled(), "the task was cancelled, not stopped"


def test_run_turns_a_signal_into_a_clean_stop() -> None:
    async def main(stop: asyncio.Event) -> str:
        asyncio.get_running_loop().call_soon(os.kill, os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(stop.wait(), 5)
        return "stopped"

    assert process_run(main) == "stopped"
    # The handler is gone with the loop: the default one is back.
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
