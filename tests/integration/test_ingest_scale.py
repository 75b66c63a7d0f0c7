"""What lets one gateway ingest a city's bulk traffic, on both databases: points copied
straight into their table with a fallback for redeliveries, readings turned into hub events
only when someone listens, batches bounded by their bytes, decoding beside writing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from beffroi.core.context import Context, Runtime
from beffroi.core.time import utcnow
from beffroi.gateway.pipeline import IngestPipeline
from beffroi.gateway.source import Inbound
from beffroi.telemetry.batch import Batch
from beffroi.telemetry.decode import Status
from beffroi.telemetry.directory import DeviceDirectory
from beffroi.telemetry.events import ConnectivityChanged, TelemetryUpdated
from beffroi.telemetry.models import DeviceStatus, LatestValue, TelemetryPoint
from beffroi.telemetry.store import TelemetryStore, Turn, Written
from tests.integration.test_ingest import ROOT, Acks, count, message, small_fleet

pytestmark = pytest.mark.asyncio


def reading(mid: int, minutes_ago: float, level: int) -> Inbound:
    """A bulk message from cabinet LC-1: one reading of each of its two lights."""
    ts = (utcnow() - timedelta(minutes=minutes_ago)).isoformat()
    entry = {"ts": ts, "values": {"level_pct": level}}
    return message(mid, "gateways/LC-1/telemetry", {"SL-1": entry, "SL-2": entry})


async def pipeline_for(
    runtime: Runtime, *, wanted: bool = True, batch_bytes: int = 1 << 20, overlap: int = 1
) -> tuple[IngestPipeline, Acks]:
    """A pipeline whose store makes reading events only when ``wanted``."""
    directory = DeviceDirectory()
    await directory.refresh(runtime.db)
    acks = Acks()
    store = TelemetryStore(runtime.db, readings_wanted=lambda: wanted)
    pipeline = IngestPipeline(
        store,
        directory,
        runtime.events,
        acks,
        root=ROOT,
        retention=timedelta(days=90),
        batch_bytes=batch_bytes,
        overlap=overlap,
    )
    return pipeline, acks


async def test_a_batch_partly_stored_already_stores_only_the_rest(
    system: Context, runtime: Runtime
) -> None:
    await small_fleet(system)
    pipeline, acks = await pipeline_for(runtime)
    first = reading(1, 3, 10)
    await pipeline.process([first])
    assert await count(runtime, TelemetryPoint) == 2
    # The broker delivers the first message again along with a new one: the points already
    # there are skipped, the new ones stored, and both messages acknowledged.
    await pipeline.process([first, reading(2, 2, 20)])
    assert await count(runtime, TelemetryPoint) == 4
    assert acks.mids == [1, 1, 2]
    async with runtime.db.read() as session:
        levels = (await session.execute(select(LatestValue.value))).scalars().all()
    assert levels == [20.0, 20.0]


async def test_readings_become_events_only_when_someone_listens(
    system: Context, runtime: Runtime
) -> None:
    await small_fleet(system)
    with runtime.events.subscribe(TelemetryUpdated) as updates:
        quiet, _ = await pipeline_for(runtime, wanted=False)
        await quiet.process([reading(1, 3, 10)])
        assert updates.empty()
        heard, _ = await pipeline_for(runtime, wanted=True)
        await heard.process([reading(2, 2, 30)])
        assert {updates.get_nowait().asset_id for _ in range(2)} == {"SL-1", "SL-2"}
    # Unheard, the latest values moved all the same.
    async with runtime.db.read() as session:
        levels = (await session.execute(select(LatestValue.value))).scalars().all()
    assert levels == [30.0, 30.0]


@pytest.mark.parametrize("overlap", [1, 2])
async def test_batches_are_bounded_by_bytes_and_acknowledged_in_order(
    system: Context, runtime: Runtime, overlap: int
) -> None:
    if overlap == 2 and not runtime.db.is_postgres:
        pytest.skip("SQLite has one writer: its batches are written one at a time")
    await small_fleet(system)
    size = len(reading(0, 1, 0).payload)
    # Room for three messages a batch: 30 messages make at least ten batches, decoded (and
    # with overlap 2, their points written) while the one before is written.
    pipeline, acks = await pipeline_for(runtime, batch_bytes=3 * size, overlap=overlap)
    shared: list[int] = []  # the order in which batches reached what batches share
    write = pipeline.store.write

    async def logging(
        batch: Batch, now: datetime | None = None, *, turn: Turn | None = None
    ) -> Written:
        async def noting() -> None:
            if turn is not None:
                await turn()
            shared.append(min(int(r.points[0][2] or 0) for r in batch.readings))

        return await write(batch, now, turn=noting)

    pipeline.store.write = logging  # type: ignore[method-assign]
    stop = asyncio.Event()
    for mid in range(1, 31):
        pipeline.deliver(reading(mid, 60 - mid, mid))
    task = asyncio.create_task(pipeline.run(stop))
    stop.set()
    await asyncio.wait_for(task, 20)
    assert acks.mids == list(range(1, 31)), "every message, in the order received"
    assert len(shared) >= 10
    assert shared == sorted(shared), "each batch after the one before"
    assert await count(runtime, TelemetryPoint) == 60
    async with runtime.db.read() as session:
        levels = (await session.execute(select(LatestValue.value))).scalars().all()
    assert levels == [30.0, 30.0], "the newest reading wins"


async def test_a_city_of_statuses_in_one_batch(system: Context, runtime: Runtime) -> None:
    # A whole city's cabinets going offline at once take 40,000 lights with them: more
    # values than one statement takes (asyncpg and SQLite: about 32,767). They are read in
    # parts; in one statement the batch was refused and held for ever.
    store = TelemetryStore(runtime.db)
    now = utcnow()
    lights = [f"SL-{n:05d}" for n in range(40_000)]
    statuses = [Status(light, False, None, now, "gateway", "LC-1") for light in lights]
    written = await store.write(Batch(statuses=statuses))
    changed = [e for e in written.events if isinstance(e, ConnectivityChanged)]
    assert len(changed) == 40_000
    async with runtime.db.read() as session:
        offline = (await session.execute(select(func.count()).select_from(DeviceStatus))).scalar()
    assert offline == 40_000
