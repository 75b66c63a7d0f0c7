"""The scheduler on both databases, with a clock moved by hand: once per due time, catch-up
and misfires, failures, overruns, and several instances on one database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from beffroi import metrics
from beffroi.core.context import Context, Runtime
from beffroi.db import Database
from beffroi.scheduler import Every, Job, Scheduler, daily
from beffroi.scheduler.claims import NAMESPACE, lock_key
from beffroi.scheduler.registry import JOBS
from tests.manual_clock import ManualClock

# Due every 10 s on the epoch grid; the clock starts 7 s after a due time, past the 5 s
# grace, so nothing is caught up at start unless a test says so.
DUE = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
START = DUE + timedelta(seconds=7)


def due(seconds: float) -> datetime:
    return DUE + timedelta(seconds=seconds)


class Recorder:
    """A job that records the clock's time at each run; it can fail or block on demand."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.runs: list[datetime] = []
        self.actors: set[str] = set()
        self.fail_next = False
        self.block: asyncio.Event | None = None
        self.running = 0
        self.most_at_once = 0
        self._changed = asyncio.Condition()

    async def __call__(self, ctx: Context) -> None:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            self.runs.append(self.clock.now())
            self.actors.add(ctx.principal.name)
            async with self._changed:
                self._changed.notify_all()
            if self.block is not None:
                await self.block.wait()
            if self.fail_next:
                self.fail_next = False
                raise RuntimeError("the job failed on purpose")
        finally:
            self.running -= 1

    async def reached(self, count: int) -> None:
        async with asyncio.timeout(20), self._changed:
            await self._changed.wait_for(lambda: len(self.runs) >= count)


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


class Instance:
    """A scheduler instance running in a task of this test."""

    def __init__(
        self, runtime: Runtime, jobs: Sequence[Job], clock: ManualClock, retry_s: float
    ) -> None:
        self.stopping = asyncio.Event()
        scheduler = Scheduler(runtime, jobs, clock=clock, retry_s=retry_s)
        self.task = asyncio.create_task(scheduler.run(self.stopping))

    async def stop(self) -> None:
        self.stopping.set()
        await self.task


@contextlib.asynccontextmanager
async def running(
    runtime: Runtime, jobs: Sequence[Job], clock: ManualClock, retry_s: float = 5.0
) -> AsyncIterator[Instance]:
    """A scheduler instance running until the block ends (or it is stopped before)."""
    instance = Instance(runtime, jobs, clock, retry_s)
    try:
        yield instance
    finally:
        await instance.stop()


def tick_job(name: str, recorder: Recorder, grace_s: float = 5.0) -> Job:
    return Job(name, recorder, Every(10), misfire_grace_s=grace_s)


async def test_a_job_runs_once_per_due_time_as_the_scheduler(runtime: Runtime) -> None:
    clock = ManualClock(START)
    recorder = Recorder(clock)
    async with running(runtime, [tick_job("test.once", recorder)], clock):
        await clock.asleep(1)
        assert recorder.runs == [], "10:00:00 was 7 s ago, past the grace: not caught up"
        clock.advance(3)
        for count in (1, 2, 3):
            await recorder.reached(count)
            await clock.asleep(1)
            if count < 3:
                clock.advance(10)
    assert recorder.runs == [due(10), due(20), due(30)]
    assert recorder.actors == {"scheduler:test.once"}


async def test_a_daily_job_runs_at_local_midnight(runtime: Runtime) -> None:
    # 23:59:30 in Paris (summer time) is 21:59:30 UTC.
    clock = ManualClock(datetime(2026, 6, 30, 21, 59, 30, tzinfo=UTC))
    recorder = Recorder(clock)
    job = Job("test.midnight", recorder, daily("00:00"))
    async with running(runtime, [job], clock):
        await clock.asleep(1)
        assert recorder.runs == []
        clock.advance(30)
        await recorder.reached(1)
        await clock.asleep(1)
    assert recorder.runs == [datetime(2026, 6, 30, 22, 0, tzinfo=UTC)]


async def test_catch_up_at_start_then_one_run_for_missed_due_times_then_a_misfire(
    runtime: Runtime,
) -> None:
    clock = ManualClock(due(3))
    recorder = Recorder(clock)
    misfires = sample("beffroi_scheduler_misfires_total", job="test.catch-up")
    async with running(runtime, [tick_job("test.catch-up", recorder)], clock):
        # Started 3 s after a due time, within the grace: that due time runs at once.
        await recorder.reached(1)
        await clock.asleep(1)
        # Asleep while four due times pass (10…40, the process was stopped, say): the
        # latest, 4 s late, runs once; the others are not run one after the other.
        clock.advance(41)
        await recorder.reached(2)
        await clock.asleep(1)
        assert recorder.runs == [due(3), due(44)]
        # Woken 7 s after the next one (50), past the grace: skipped and counted.
        clock.advance(13)
        await clock.asleep(1)
        assert len(recorder.runs) == 2
        assert sample("beffroi_scheduler_misfires_total", job="test.catch-up") == misfires + 1
        clock.advance(3)  # 60
        await recorder.reached(3)
        await clock.asleep(1)
    assert recorder.runs == [due(3), due(44), due(60)]


async def test_a_failing_job_is_counted_and_runs_again_at_its_next_due_time(
    runtime: Runtime,
) -> None:
    clock = ManualClock(START)
    failing, steady = Recorder(clock), Recorder(clock)
    failing.fail_next = True
    failed = sample("beffroi_scheduler_runs_total", job="test.failing", outcome="failed")
    ok = sample("beffroi_scheduler_runs_total", job="test.failing", outcome="succeeded")
    jobs = [tick_job("test.failing", failing), tick_job("test.steady", steady)]
    async with running(runtime, jobs, clock) as instance:
        await clock.asleep(2)
        clock.advance(3)
        await failing.reached(1)
        await steady.reached(1)
        await clock.asleep(2)
        assert not instance.task.done(), "a failed run stops nothing"
        clock.advance(10)
        await failing.reached(2)
        await clock.asleep(2)
    assert failing.runs == [due(10), due(20)]
    assert steady.runs == [due(10), due(20)]
    runs = "beffroi_scheduler_runs_total"
    assert sample(runs, job="test.failing", outcome="failed") == failed + 1
    assert sample(runs, job="test.failing", outcome="succeeded") == ok + 1


async def test_a_run_that_overruns_is_not_started_again_meanwhile(runtime: Runtime) -> None:
    clock = ManualClock(START)
    recorder = Recorder(clock)
    recorder.block = asyncio.Event()
    async with running(runtime, [tick_job("test.overrun", recorder)], clock):
        await clock.asleep(1)
        clock.advance(3)
        await recorder.reached(1)
        # Two more due times pass while the run holds on (20 and 30).
        clock.advance(10)
        clock.advance(10)
        # A loop that started runs beside the first would do it now.
        await asyncio.sleep(0.05)
        assert recorder.runs == [due(10)]
        recorder.block.set()
        recorder.block = None
        # The missed due times make one run, at once (30 was just reached).
        await recorder.reached(2)
        await clock.asleep(1)
    assert recorder.runs == [due(10), due(30)]
    assert recorder.most_at_once == 1


async def test_two_instances_on_one_database_run_each_due_time_once(
    runtime: Runtime,
) -> None:
    clock = ManualClock(START)
    recorder = Recorder(clock)
    job = tick_job("test.shared", recorder)
    other = Runtime(runtime.settings, Database(runtime.settings.effective_database_url))
    try:
        async with running(runtime, [job], clock, retry_s=1):
            await clock.asleep(1)
            async with running(other, [job], clock, retry_s=1):
                await clock.asleep(2)
                clock.advance(3)
                for count in range(1, 6):
                    await recorder.reached(count)
                    # Both instances are done with this due time and wait again.
                    await clock.asleep(2)
                    assert len(recorder.runs) == count, "one instance ran the due time"
                    if count < 5:
                        clock.advance(10)
    finally:
        await other.db.dispose()
    assert recorder.runs == [due(s) for s in (10, 20, 30, 40, 50)]
    assert recorder.most_at_once == 1


async def test_the_other_instance_takes_the_job_over_when_the_holder_stops(
    runtime: Runtime,
) -> None:
    clock = ManualClock(START)
    recorder = Recorder(clock)
    job = tick_job("test.handover", recorder)
    other = Runtime(runtime.settings, Database(runtime.settings.effective_database_url))
    try:
        async with running(other, [job], clock, retry_s=1) as holder:
            await clock.asleep(1)
            async with running(runtime, [job], clock, retry_s=1):
                await clock.asleep(2)
                clock.advance(3)
                await recorder.reached(1)
                await clock.asleep(2)
                await holder.stop()
                clock.advance(8)  # 10:00:18: the other tries again and holds the job
                await clock.asleep(1)
                assert recorder.runs == [due(10)], "10 was run, 8 s ago: not run again"
                clock.advance(2)
                await recorder.reached(2)
                await clock.asleep(1)
    finally:
        await other.db.dispose()
    assert recorder.runs == [due(10), due(20)]


async def test_postgres_a_holder_whose_session_dies_gives_the_job_up(
    runtime: Runtime, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    clock = ManualClock(START)
    recorder = Recorder(clock)
    job = tick_job("test.session-lost", recorder)
    other = Runtime(runtime.settings, Database(runtime.settings.effective_database_url))
    holder = text(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = :ns"
        " AND objid = :key AND objsubid = 2"
    )
    params = {"ns": NAMESPACE, "key": lock_key(job.name)}
    try:
        async with running(runtime, [job], clock, retry_s=1):
            await clock.asleep(1)
            async with running(other, [job], clock, retry_s=1):
                await clock.asleep(2)
                async with runtime.db.read() as session:
                    pid = (await session.execute(holder, params)).scalar_one()
                    # With a timeout, it returns once the session has ended (locks freed).
                    ended = await session.execute(
                        text("SELECT pg_terminate_backend(:p, 20000)"), {"p": pid}
                    )
                    assert ended.scalar_one() is True
                    assert (await session.execute(holder, params)).first() is None
                clock.advance(3)
                await recorder.reached(1)
                await clock.asleep(2)
                clock.advance(10)
                await recorder.reached(2)
                await clock.asleep(2)
    finally:
        await other.db.dispose()
    assert recorder.runs == [due(10), due(20)]


async def test_every_declared_job_runs_on_this_database(system: Context) -> None:
    for job in JOBS:
        await job.run(system)
