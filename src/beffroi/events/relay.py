"""Carrying hub events between processes, through PostgreSQL's ``NOTIFY``.

In one process (the demo) the hub is enough. In production the gateway and the API run
apart: what the gateway publishes (telemetry, connectivity, alarms, command transitions)
must reach the API's hub, where the console's board and live stream listen; and what one
API process publishes (an acknowledgement, a work order) must reach the others. Every
process runs a relay: it sends the events its hub publishes and publishes those the
others sent, never its own twice. Delivery is at most once, like the hub's: the console's
board re-reads the database now and then for anything lost.

Which kinds travel is said where each is declared (``@kind(..., relayed=True)``, see
:mod:`beffroi.core.event_kinds`); each goes as its kind name and its fields. Readings
(``TelemetryUpdated``) stay in their process: at ingest rates (thousands a second) they
would flood ``NOTIFY``; the console re-reads an open asset's state when its commands or
drawn state move.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson
import structlog
from pydantic import TypeAdapter

from beffroi.core.context import Runtime
from beffroi.core.event_kinds import kind_of
from beffroi.core.events import DomainEvent
from beffroi.core.process import Process
from beffroi.core.tasks import pause
from beffroi.events import kinds

log = structlog.get_logger(__name__)

CHANNEL = "beffroi_events"
# PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more.
PAYLOAD_MAX = 7_500
FLUSH_S = 0.05
# Events waiting to be sent: a city-wide command moves its 34,000 children in one commit,
# and each move's events must all reach the other processes (the hub's default bound,
# 10,000, kept only the newest of them). A few such moves, each event a small object.
QUEUE = 150_000
# A plain loop, not a retry library: relaying never ends in success, and a connection that
# ends is reconnected after the same pause as one that fails.
RECONNECT_S = 2.0
# What a database going away raises here; asyncpg's InternalClientError too, when the
# connection dies mid-operation ("another operation is in progress"): the relay reconnects
# rather than fail, which would now stop the whole process it runs in.
DB_ERRORS = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


@functools.cache
def _adapters() -> dict[str, TypeAdapter[Any]]:
    """How each relayed kind is written and read, by kind name."""
    return {k.name: TypeAdapter(k.cls) for k in kinds.load() if k.relayed}


def relayed_types() -> tuple[type[DomainEvent], ...]:
    """The event classes the relay carries."""
    return tuple(k.cls for k in kinds.load() if k.relayed)


def encode(origin: str, events: Sequence[DomainEvent]) -> list[str]:
    """The NOTIFY payloads (each under the size limit) carrying ``events``; KeyError for
    an event of a kind that is not relayed."""
    payloads: list[str] = []
    chunk: list[bytes] = []
    size = 0
    head = orjson.dumps(origin)
    adapters = _adapters()
    for event in events:
        name = kind_of(event).name
        item = orjson.dumps([name, adapters[name].dump_python(event, mode="json")])
        if len(item) + len(head) + 16 > PAYLOAD_MAX:
            log.warning("event too large to relay", kind=name, size=len(item))
            continue
        if chunk and size + len(item) + len(head) + 16 > PAYLOAD_MAX:
            payloads.append(_payload(head, chunk))
            chunk, size = [], 0
        chunk.append(item)
        size += len(item) + 1
    if chunk:
        payloads.append(_payload(head, chunk))
    return payloads


def _payload(head: bytes, items: list[bytes]) -> str:
    return (b'{"o":' + head + b',"e":[' + b",".join(items) + b"]}").decode()


def decode(payload: str) -> tuple[str, list[DomainEvent]]:
    """The origin and the events of a payload; unknown kinds are skipped."""
    message = orjson.loads(payload)
    adapters = _adapters()
    events = [
        adapters[name].validate_python(data) for name, data in message["e"] if name in adapters
    ]
    return message["o"], events


class EventRelay:
    """One process's end of the relay."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.origin = uuid.uuid4().hex[:12]
        # The events this relay published itself, so that it does not send them back.
        self._echoes: set[int] = set()
        self.listening = asyncio.Event()
        self.connections = 0  # how many times it started listening (reconnections show)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop``; reconnects when the database goes away. Returns at once on
        a database without notifications (SQLite: one process only)."""
        db = self.runtime.db
        if not db.is_postgres:
            return
        dsn = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with self.runtime.events.subscribe(*relayed_types(), maxsize=QUEUE) as subscription:
            while not stop.is_set():
                conn: asyncpg.Connection | None = None
                try:
                    conn = await asyncpg.connect(dsn)
                    await conn.add_listener(CHANNEL, self._received)
                    self.connections += 1
                    self.listening.set()
                    await self._send_until(stop, conn, subscription)
                except DB_ERRORS as exc:
                    log.warning("event relay interrupted", error=str(exc)[:200])
                finally:
                    self.listening.clear()
                    if conn is not None:
                        with contextlib.suppress(Exception):
                            await conn.close(timeout=2)
                await pause(stop, RECONNECT_S)

    async def _send_until(self, stop: asyncio.Event, conn: Any, subscription: Any) -> None:
        """Send what the hub publishes until ``stop``, or until the connection is lost
        (then the caller connects again: a dead connection hears nothing either)."""
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        ending = {
            asyncio.create_task(stop.wait()),
            asyncio.create_task(lost.wait()),
        }
        try:
            while True:
                getting = asyncio.create_task(subscription.get())
                done, _ = await asyncio.wait(
                    {getting, *ending}, return_when=asyncio.FIRST_COMPLETED
                )
                if getting not in done:
                    getting.cancel()
                    if lost.is_set():
                        log.warning("event relay connection lost; connecting again")
                    return
                await asyncio.sleep(FLUSH_S)  # what comes with it goes in the same payloads
                events = [getting.result(), *subscription.take()]
                ours = [e for e in events if not self._is_echo(e)]
                if subscription.dropped:
                    # Echoes dropped unseen are freed, and their ids may come back as new
                    # events of ours: forget them all rather than skip one of those.
                    subscription.dropped = 0
                    self._echoes.clear()
                for payload in encode(self.origin, ours):
                    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
        finally:
            for task in ending:
                task.cancel()

    def _is_echo(self, event: DomainEvent) -> bool:
        if id(event) in self._echoes:
            self._echoes.discard(id(event))
            return True
        return False

    def _received(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            origin, events = decode(payload)
        except (ValueError, KeyError, TypeError) as exc:  # a stranger's NOTIFY: ignored
            log.warning("unreadable relayed events", error=str(exc)[:200])
            return
        if origin == self.origin:
            return
        self._echoes.update(id(e) for e in events)
        self.runtime.events.publish_many(events)


def start(process: Process, runtime: Runtime) -> asyncio.Task[None]:
    """The relay of this process, running until it stops."""
    return process.start("event-relay", EventRelay(runtime).run(process.stop))
