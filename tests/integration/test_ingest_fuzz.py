"""Garbage of every kind through the whole pipeline, down to the database: nothing
crashes, everything is acknowledged, each message is stored or counted as rejected, and
no non-finite number (NaN, Infinity, 1e999: Python's json reads them all) is stored."""

from __future__ import annotations

import asyncio
import json
import math
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from beffroi.config import load_settings
from beffroi.core.context import Runtime
from beffroi.db import Database
from beffroi.gateway.pipeline import IngestPipeline
from beffroi.gateway.source import Inbound
from beffroi.http.jsonvalues import non_finite_paths
from beffroi.telemetry.directory import DeviceDirectory
from beffroi.telemetry.models import DeviceEvent, LatestValue, RejectionCount, TelemetryPoint
from beffroi.telemetry.store import TelemetryStore
from tests.conftest import Template
from tests.integration.test_ingest import small_fleet

ROOT = "beffroi/v1"
NOW = datetime.now(UTC)

JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=40,
)
VALUES = st.dictionaries(
    st.sampled_from(["mode", "plan", "cycle_s", "level_pct", "detector_3_count", "x", ""]),
    JSON,
    max_size=4,
)
TS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.just((NOW - timedelta(minutes=1)).isoformat()),
    st.text(max_size=30),
)
# A number no JSON writer may emit, written where a device could put one.
NON_FINITE = st.builds(
    lambda where, key, token: (where % f'{{"{key}": {token}}}').encode(),
    st.sampled_from(
        [
            "%s",
            '{"values": %s}',
            '[{"values": {"plan": 2}}, {"values": %s}]',
            '{"code": "doorOpen", "active": true, "detail": %s}',
            '{"status": "failed", "detail": %s}',
            '{"online": true, "extra": %s}',
        ]
    ),
    st.sampled_from(["level_pct", "plan", "cycle_s", "detector_3_count", "ts"]),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1E400"]),
)
# Messages every part of which a device may send but one number no JSON writer may emit.
SPOILED = st.builds(
    lambda message, token: (f"{ROOT}/{message[0]}", (message[1] % token).encode()),
    st.sampled_from(
        [
            ("devices/TC-1/telemetry", '{"values": {"plan": %s}}'),
            ("devices/TC-1/telemetry", '[{"values": {"plan": 2}}, {"values": {"cycle_s": %s}}]'),
            ("devices/TC-1/telemetry", '{"ts": %s, "values": {"plan": 2}}'),
            ("devices/TC-1/events", '{"code": "doorOpen", "active": true, "detail": {"a": %s}}'),
            (
                "gateways/LC-1/devices/SL-1/events",
                '{"code": "lampFailure", "active": false, "detail": {"a": [1, %s]}}',
            ),
            ("devices/TC-1/status", '{"online": true, "uptime_s": %s}'),
            ("devices/TC-1/commands/c1/reply", '{"status": "failed", "detail": {"a": %s}}'),
        ]
    ),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1E400"]),
)
PAYLOADS = st.one_of(
    st.binary(max_size=200),
    NON_FINITE,
    JSON.map(lambda v: json.dumps(v).encode()),
    st.builds(lambda ts, v: json.dumps({"ts": ts, "values": v}).encode(), TS, VALUES),
    st.builds(lambda n: b"[" * n + b"]" * n, st.integers(min_value=100, max_value=3000)),
    st.just(b'{"values": {"plan": 1}}' + b" " * 300_000),
    st.builds(
        lambda c, a, d: json.dumps({"code": c, "active": a, "detail": d}).encode(),
        st.sampled_from(["hardwareFault", "doorOpen", "nope"]),
        JSON,
        JSON,
    ),
    st.builds(lambda s: json.dumps({"status": s}).encode(), JSON),
)
TOPICS = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda gw, dev, ch: f"{ROOT}/{gw}devices/{dev}/{ch}",
        st.sampled_from(["", "gateways/LC-1/", "gateways/TC-1/", "gateways/+/"]),
        st.sampled_from(["TC-1", "SL-1", "LC-1", "NOPE", "#", "a b"]),
        st.sampled_from(["telemetry", "events", "status", "commands/c1/reply", "commands/c1"]),
    ),
)


async def _run(url: str, messages: list[tuple[str, bytes]]) -> tuple[int, int, int, int]:
    db = Database(url)
    try:
        runtime = Runtime(load_settings(database_url=url), db)
        directory = DeviceDirectory()
        await directory.refresh(db)
        acked: list[int] = []
        pipeline = IngestPipeline(
            TelemetryStore(db),
            directory,
            runtime.events,
            lambda items: acked.extend(i.mid for i in items),
            root=ROOT,
            retention=timedelta(days=90),
        )
        items = [Inbound(t, p, NOW, n, 1, 0) for n, (t, p) in enumerate(messages)]
        before = await _rejections_counted(db)
        await pipeline.process(items)
        counted = await _rejections_counted(db) - before
        return len(acked), pipeline.stored_messages, pipeline.rejected, counted
    finally:
        await db.dispose()


async def _non_finite_stored(url: str) -> list[object]:
    """Stored values and event details that are not finite numbers (on SQLite a NaN
    stored as a REAL reads back as NULL: a point with neither a number nor a text)."""
    db = Database(url)
    try:
        async with db.read() as session:
            found: list[object] = []
            for model in (TelemetryPoint, LatestValue):
                rows = await session.execute(select(model.key, model.value, model.text))
                found += [
                    r
                    for r in rows
                    if (r.value is None and r.text is None)
                    or (r.value is not None and not math.isfinite(r.value))
                ]
            details = await session.execute(select(DeviceEvent.detail))
            found += [d for (d,) in details if non_finite_paths(d)]
            return found
    finally:
        await db.dispose()


async def _rejections_counted(db: Database) -> int:
    async with db.read() as session:
        return int((await session.execute(select(func.sum(RejectionCount.count)))).scalar() or 0)


async def _prepare(url: str) -> None:
    db = Database(url)
    try:
        system = Runtime(load_settings(database_url=url), db).system_context("fuzz")
        await small_fleet(system)
    finally:
        await db.dispose()


@pytest.fixture
def fuzz_url(template: Template, tmp_path: Path) -> str:
    """A database with the small fleet, shared by every example of the test."""
    if template.sqlite_file is not None:
        target = tmp_path / "fuzz.db"
        shutil.copyfile(template.sqlite_file, target)
        url = f"sqlite+aiosqlite:///{target}"
    else:
        url = template.url  # reset by the next test that uses it
    asyncio.run(_prepare(url))
    return url


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(messages=st.lists(st.tuples(TOPICS, PAYLOADS) | SPOILED, min_size=1, max_size=30))
def test_garbage_is_acknowledged_and_counted_never_fatal(
    fuzz_url: str, messages: list[tuple[str, bytes]]
) -> None:
    acked, stored, rejected, counted = asyncio.run(_run(fuzz_url, messages))
    assert acked == len(messages), "every message is acknowledged: none is redelivered forever"
    assert stored + rejected == len(messages), "each message is stored or rejected"
    assert counted == rejected, "every rejection is counted by reason"
    assert asyncio.run(_non_finite_stored(fuzz_url)) == [], "nothing non-finite is stored"


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(messages=st.lists(SPOILED, min_size=1, max_size=10))
def test_non_finite_numbers_are_rejected_on_every_channel(
    fuzz_url: str, messages: list[tuple[str, bytes]]
) -> None:
    acked, stored, rejected, counted = asyncio.run(_run(fuzz_url, messages))
    assert (acked, stored, rejected, counted) == (len(messages), 0, len(messages), rejected)
    assert asyncio.run(_non_finite_stored(fuzz_url)) == [], "nothing non-finite is stored"
