"""The ingest pipeline and the telemetry store, on both databases, without a broker."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from beffroi.assets.importing import import_assets
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.core.context import Context, Runtime
from beffroi.core.time import utcnow
from beffroi.gateway.pipeline import IngestPipeline
from beffroi.gateway.source import Inbound
from beffroi.telemetry import jobs
from beffroi.telemetry.directory import DeviceDirectory
from beffroi.telemetry.events import (
    ConnectivityChanged,
    DeviceEventReceived,
    TelemetryUpdated,
)
from beffroi.telemetry.models import (
    DeviceEvent,
    DeviceStatus,
    LatestValue,
    RejectedMessage,
    RejectionCount,
    TelemetryPoint,
    TelemetryRollup,
)
from beffroi.telemetry.store import TelemetryStore

pytestmark = pytest.mark.asyncio
ROOT = "beffroi/v1"


async def small_fleet(system: Context) -> None:
    """A cabinet with two lights in Talant and a traffic controller in Dijon."""

    def asset(asset_id: str, type_: str, commune: str, parent: str | None = None) -> AssetCreate:
        return AssetCreate(
            id=asset_id,
            type=type_,
            name=asset_id,
            commune=commune,
            location=Point(coordinates=(5.0, 47.33)),
            parent_id=parent,
        )

    items = [
        asset("LC-1", "lighting_cabinet", "talant"),
        asset("SL-1", "streetlight", "talant", "LC-1"),
        asset("SL-2", "streetlight", "talant", "LC-1"),
        asset("TC-1", "traffic_controller", "dijon"),
    ]
    await import_assets(system, list(enumerate(items, 1)))


class Acks:
    """Records what the pipeline acknowledged."""

    def __init__(self) -> None:
        self.mids: list[int] = []

    def __call__(self, items: Any) -> None:
        self.mids += [i.mid for i in items]


def message(mid: int, topic: str, payload: Any, received_at: datetime | None = None) -> Inbound:
    """An inbound QoS 1 message."""
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return Inbound(f"{ROOT}/{topic}", raw, received_at or utcnow(), mid, 1, 0)


async def pipeline_for(runtime: Runtime) -> tuple[IngestPipeline, Acks]:
    """A pipeline on the test database with a loaded directory."""
    directory = DeviceDirectory()
    await directory.refresh(runtime.db)
    acks = Acks()
    pipeline = IngestPipeline(
        TelemetryStore(runtime.db),
        directory,
        runtime.events,
        acks,
        root=ROOT,
        retention=timedelta(days=90),
    )
    return pipeline, acks


async def count(runtime: Runtime, model: Any) -> int:
    """Rows of a table."""
    async with runtime.db.read() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_telemetry_is_stored_once_and_acknowledged_after(
    system: Context, runtime: Runtime
) -> None:
    await small_fleet(system)
    pipeline, acks = await pipeline_for(runtime)
    updates = runtime.events.subscribe(TelemetryUpdated, ConnectivityChanged)
    ts = (utcnow() - timedelta(minutes=1)).isoformat()
    batch = [
        message(
            1,
            "gateways/LC-1/devices/SL-1/telemetry",
            {"ts": ts, "values": {"level_pct": 70, "power_w": 30.5}},
        ),
        message(
            2, "devices/LC-1/telemetry", {"ts": ts, "values": {"power_w": 1200, "door_open": False}}
        ),
        message(3, "devices/TC-1/telemetry", {"ts": ts, "values": {"mode": "normal", "plan": 2}}),
    ]
    await pipeline.process(batch)
    assert acks.mids == [1, 2, 3]
    assert await count(runtime, TelemetryPoint) == 6
    # A redelivery (the broker did not see our acknowledgement) stores nothing twice.
    await pipeline.process(batch)
    assert await count(runtime, TelemetryPoint) == 6
    assert acks.mids == [1, 2, 3, 1, 2, 3]

    events = []
    events.extend(updates.take())
    telemetry = [e for e in events if isinstance(e, TelemetryUpdated)]
    online = [e for e in events if isinstance(e, ConnectivityChanged)]
    assert {e.asset_id for e in telemetry} == {"SL-1", "LC-1", "TC-1"}, "once each: not again"
    assert len(telemetry) == 3
    assert {e.asset_id for e in online} == {"SL-1", "LC-1", "TC-1"}
    tc = next(e for e in telemetry if e.asset_id == "TC-1")
    assert tc.values == {"mode": "normal", "plan": 2.0}
    updates.close()


async def test_latest_is_decided_by_timestamp_not_arrival(
    system: Context, runtime: Runtime
) -> None:
    await small_fleet(system)
    pipeline, _ = await pipeline_for(runtime)
    newer = (utcnow() - timedelta(minutes=1)).isoformat()
    older = (utcnow() - timedelta(minutes=5)).isoformat()
    await pipeline.process(
        [message(1, "devices/SL-2/telemetry", {"ts": newer, "values": {"level_pct": 80}})]
    )
    await pipeline.process(
        [message(2, "devices/SL-2/telemetry", {"ts": older, "values": {"level_pct": 20}})]
    )
    async with runtime.db.read() as session:
        latest = (await session.execute(select(LatestValue))).scalar_one()
    assert latest.value == 80
    assert await count(runtime, TelemetryPoint) == 2


async def test_rejections_are_counted_kept_and_do_not_block(
    system: Context, runtime: Runtime
) -> None:
    await small_fleet(system)
    pipeline, acks = await pipeline_for(runtime)
    await pipeline.process(
        [
            message(1, "devices/SL-1/telemetry", b"\x00garbage"),
            message(2, "devices/GHOST/telemetry", {"level_pct": 1}),
            message(3, "devices/SL-1/telemetry", {"level_pct": 500}),
            message(4, "devices/SL-1/telemetry", {"level_pct": 50}),
            message(5, "gateways/LC-1/devices/TC-1/telemetry", {"mode": "normal"}),
        ]
    )
    assert acks.mids == [1, 2, 3, 4, 5], "rejected messages are acknowledged: never redelivered"
    assert await count(runtime, TelemetryPoint) == 1
    assert await count(runtime, RejectedMessage) == 4
    async with runtime.db.read() as session:
        counts = dict(
            (await session.execute(select(RejectionCount.reason, RejectionCount.count))).all()
        )
    assert counts == {"bad_json": 1, "unknown_device": 1, "out_of_range": 1, "not_a_child": 1}
    assert pipeline.rejected == 4


async def test_fault_events_and_status(system: Context, runtime: Runtime) -> None:
    await small_fleet(system)
    pipeline, _ = await pipeline_for(runtime)
    faults = runtime.events.subscribe(DeviceEventReceived, ConnectivityChanged)
    ts = utcnow().isoformat()
    raised = message(
        1,
        "gateways/LC-1/devices/SL-1/events",
        {"ts": ts, "code": "lampFailure", "active": True, "detail": {"lamp": 1}},
    )
    await pipeline.process(
        [raised, message(2, "devices/LC-1/status", {"online": True, "firmware": "2.1"})]
    )
    await pipeline.process([raised])  # redelivered: stored and announced once
    await pipeline.process([message(3, "devices/LC-1/status", {"online": False})])
    assert await count(runtime, DeviceEvent) == 1
    seen = []
    seen.extend(faults.take())
    # The cabinet's lights go offline with it (tested below); here, the cabinet's own story.
    seen = [e for e in seen if getattr(e, "reason", "") != "gateway"]
    assert [type(e).__name__ for e in seen] == [
        "ConnectivityChanged",
        "DeviceEventReceived",
        "ConnectivityChanged",
    ]
    assert seen[1].gateway_id == "LC-1"
    assert (seen[0].online, seen[2].online) == (True, False)
    async with runtime.db.read() as session:
        of_cabinet = select(DeviceStatus).where(DeviceStatus.asset_id == "LC-1")
        status = (await session.execute(of_cabinet)).scalar_one()
    assert status.firmware == "2.1"
    assert status.online is False
    faults.close()


async def test_silence_takes_a_device_offline(system: Context, runtime: Runtime) -> None:
    await small_fleet(system)
    pipeline, _ = await pipeline_for(runtime)
    now = utcnow()
    await pipeline.process(
        [message(1, "devices/TC-1/telemetry", {"ts": now.isoformat(), "values": {"plan": 1}})]
    )
    assert await jobs.mark_silent(runtime.db, now + timedelta(seconds=200)) == []
    gone = await jobs.mark_silent(runtime.db, now + timedelta(seconds=301))
    assert [
        (e.asset_id, e.online, e.reason) for e in gone if isinstance(e, ConnectivityChanged)
    ] == [("TC-1", False, "silence")]
    back = runtime.events.subscribe(ConnectivityChanged)
    await pipeline.process([message(2, "devices/TC-1/telemetry", {"plan": 2})])
    event = back.get_nowait()
    assert (event.asset_id, event.online, event.reason) == ("TC-1", True, "telemetry")
    back.close()


async def test_rollups_and_retention(system: Context, runtime: Runtime) -> None:
    await small_fleet(system)
    pipeline, _ = await pipeline_for(runtime)
    now = utcnow().replace(minute=30, second=0, microsecond=0)
    base = now - timedelta(hours=3)
    readings = [
        {"ts": (base + timedelta(minutes=10 * i)).isoformat(), "values": {"power_w": float(i)}}
        for i in range(12)
    ]
    await pipeline.process([message(1, "devices/LC-1/telemetry", readings, received_at=now)])
    written = await jobs.roll_up(runtime.db, now)
    assert written >= 2
    async with runtime.db.read() as session:
        rollups = (
            (await session.execute(select(TelemetryRollup).order_by(TelemetryRollup.bucket)))
            .scalars()
            .all()
        )
    total = sum(r.count for r in rollups)
    assert total == 12
    assert sum(r.sum for r in rollups) == sum(range(12))
    assert min(r.min for r in rollups) == 0
    assert max(r.max for r in rollups) == 11
    later = now + timedelta(days=91)
    done = await jobs.maintain(runtime.db, raw_days=90, rollup_days=1000, now=later)
    assert await count(runtime, TelemetryPoint) == 0
    assert await count(runtime, TelemetryRollup) == len(rollups), "rollups outlive raw points"
    if runtime.db.is_postgres:
        assert done.partitions_dropped, "whole daily partitions are dropped"


async def test_the_pipeline_runs_until_stopped(system: Context, runtime: Runtime) -> None:
    await small_fleet(system)
    pipeline, acks = await pipeline_for(runtime)
    stop = asyncio.Event()
    task = asyncio.create_task(pipeline.run(stop))
    for mid in range(1, 51):
        pipeline.deliver(
            message(
                mid,
                "devices/SL-1/telemetry",
                {
                    "ts": (utcnow() - timedelta(seconds=mid)).isoformat(),
                    "values": {"level_pct": mid},
                },
            )
        )
    stop.set()
    await asyncio.wait_for(task, 10)
    assert sorted(acks.mids) == list(range(1, 51))
    assert await count(runtime, TelemetryPoint) == 50


async def test_data_the_database_refuses_is_isolated_not_blocking(
    system: Context, runtime: Runtime
) -> None:
    await small_fleet(system)
    pipeline, acks = await pipeline_for(runtime)
    ts = utcnow().isoformat()
    poison = {"ts": ts, "code": "lampFailure", "active": True, "detail": {"note": "\u0000"}}
    await pipeline.process(
        [
            message(1, "devices/SL-1/telemetry", {"ts": ts, "values": {"level_pct": 40}}),
            message(2, "devices/SL-2/events", poison),
            message(3, "devices/SL-2/telemetry", {"ts": ts, "values": {"level_pct": 60}}),
        ]
    )
    assert acks.mids == [1, 2, 3]
    assert await count(runtime, TelemetryPoint) == 2, "the good readings are stored, once"
    # PostgreSQL cannot store NUL in JSON: that event alone is rejected; SQLite keeps it.
    expected_events = 0 if runtime.db.is_postgres else 1
    assert await count(runtime, DeviceEvent) == expected_events
    assert await count(runtime, RejectedMessage) == 1 - expected_events


async def test_a_gateway_going_offline_takes_its_devices_with_it(
    system: Context, runtime: Runtime
) -> None:
    await small_fleet(system)
    pipeline, _ = await pipeline_for(runtime)
    ts = utcnow().isoformat()
    await pipeline.process(
        [
            message(
                1, "gateways/LC-1/devices/SL-1/telemetry", {"ts": ts, "values": {"level_pct": 1}}
            ),
            message(2, "devices/LC-1/status", {"online": True}),
        ]
    )
    changes = runtime.events.subscribe(ConnectivityChanged)
    await pipeline.process([message(3, "devices/LC-1/status", {"online": False})])
    seen = []
    seen.extend(changes.take())
    assert sorted((e.asset_id, e.online, e.reason) for e in seen) == [
        ("LC-1", False, "status"),
        ("SL-1", False, "gateway"),
        ("SL-2", False, "gateway"),
    ]
    changes.close()
