"""Hub events between processes: what one process publishes, the others' hubs get once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from beffroi.alarms.events import AlarmChanged
from beffroi.catalogue import Severity
from beffroi.commands.events import CommandChanged
from beffroi.commands.lifecycle import CommandState, Verification
from beffroi.core.context import Runtime
from beffroi.core.process import Process
from beffroi.db import Database
from beffroi.events import relay
from beffroi.events.relay import PAYLOAD_MAX, EventRelay, decode, encode
from beffroi.telemetry.events import ConnectivityChanged, TelemetryUpdated

AT = datetime(2026, 11, 27, 18, 30, 5, 123456, tzinfo=UTC)
PENDING = Verification.PENDING
ALARM = AlarmChanged(
    41, "SL-TAL-1", "talant", "lampFailure", Severity.MINOR, "active", "raised", AT, 7
)
READING = CommandChanged(
    "c0ffee", "SL-TAL-1", None, "dim", CommandState.SUCCEEDED, Verification.VERIFIED, AT
)


def test_events_travel_as_they_were_in_payloads_postgresql_accepts() -> None:
    many = [ConnectivityChanged(f"SL-{i:05d}", i % 2 == 0, AT, "status") for i in range(500)]
    payloads = encode("me", [ALARM, READING, *many])
    assert len(payloads) > 1
    assert all(len(p.encode()) < PAYLOAD_MAX for p in payloads)
    received = [e for p in payloads for e in decode(p)[1]]
    assert received == [ALARM, READING, *many]
    assert {decode(p)[0] for p in payloads} == {"me"}
    # Readings are not relayed (see the module): they have no adapter.
    with pytest.raises(KeyError):
        encode("me", [TelemetryUpdated("SL-TAL-1", AT, {"level_pct": 40.0})])
    # A kind this version does not know is left out, the rest still read.
    origin, events = decode('{"o":"x","e":[["Unknown",{}],' + payloads[0][len('{"o":"me","e":[') :])
    assert origin == "x"
    assert events[:2] == [ALARM, READING]


async def _collect(sub: object, within: float) -> list[object]:
    got: list[object] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while (left := deadline - loop.time()) > 0:
        try:
            got.append(await asyncio.wait_for(sub.get(), left))  # type: ignore[attr-defined]
        except TimeoutError:
            break
    return got


@dataclass
class Two:
    """Two processes on one database, each with its hub and its running relay."""

    here: Runtime
    other: Runtime
    ours: EventRelay
    theirs: EventRelay


@pytest.fixture
async def two(runtime: Runtime) -> AsyncIterator[Two]:
    if not runtime.db.is_postgres:
        pytest.skip("notifications are PostgreSQL's; SQLite runs one process")
    other = Runtime(settings=runtime.settings, db=Database(runtime.settings.effective_database_url))
    stop = asyncio.Event()
    ours, theirs = EventRelay(runtime), EventRelay(other)
    tasks = [asyncio.create_task(ours.run(stop)), asyncio.create_task(theirs.run(stop))]
    try:
        await asyncio.wait_for(ours.listening.wait(), 10)
        await asyncio.wait_for(theirs.listening.wait(), 10)
        yield Two(runtime, other, ours, theirs)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        await other.db.dispose()


async def test_two_processes_share_their_events(two: Two) -> None:
    with two.here.events.subscribe() as here, two.other.events.subscribe() as there:
        two.here.events.publish_many([ALARM, READING])
        assert await _collect(there, 2.0) == [ALARM, READING]
        # Here, only what was published here: nothing came back.
        assert await _collect(here, 0.5) == [ALARM, READING]
        back = ConnectivityChanged("SL-TAL-1", False, AT, "will")
        two.other.events.publish(back)
        assert await _collect(here, 2.0) == [back]
        assert await _collect(there, 0.5) == [back]


async def test_a_city_wide_move_reaches_the_other_process_whole(two: Two) -> None:
    # One commit moves 34,000 commands: every one of their events crosses, in order.
    moved = [
        CommandChanged(f"c{i}", f"SL-{i}", "b1", "dim", CommandState.SENT, PENDING, AT)
        for i in range(34_000)
    ]
    with two.other.events.subscribe(CommandChanged, maxsize=100_000) as there:
        two.here.events.publish_many(moved)
        got: list[object] = []
        async with asyncio.timeout(30):
            while len(got) < len(moved):
                got += [await there.get(), *there.take()]
        assert got == moved
        assert there.dropped == 0


async def test_a_single_process_database_needs_no_relay(runtime: Runtime) -> None:
    if runtime.db.is_postgres:
        pytest.skip("this is about SQLite")
    async with Process() as process:
        task = relay.start(process, runtime)
        await asyncio.wait_for(task, 1)  # returns at once


async def test_a_relay_connects_again_when_its_connection_dies(two: Two) -> None:
    # The server ends every listening connection (a restart, an administrator).
    async with two.here.db.write() as session:
        await session.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
            )
        )
    # Each notices the loss and listens again on a new connection.
    for _ in range(200):
        if two.ours.connections == two.theirs.connections == 2:
            break
        await asyncio.sleep(0.05)
    assert (two.ours.connections, two.theirs.connections) == (2, 2)
    await asyncio.wait_for(two.ours.listening.wait(), 10)
    await asyncio.wait_for(two.theirs.listening.wait(), 10)
    with two.other.events.subscribe() as there:
        two.here.events.publish(ALARM)
        assert await _collect(there, 2.0) == [ALARM]
