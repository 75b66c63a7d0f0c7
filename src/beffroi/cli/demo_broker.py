"""The demo's embedded MQTT broker, in a process of its own.

A broker is a server of its own in any real deployment, and here it must be one too: when
the simulated fleet's 2,000 devices connect and publish their first statuses, amqtt's
routing keeps an event loop busy for a minute. Sharing that loop with the API, the
gateway and the scheduler held SQLite's write lock across slow loop turns until other
writers gave up ("database is locked"). In its own process the broker has its own core.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from multiprocessing.connection import Connection
from typing import Any

from amqtt.errors import BrokerError

from beffroi import logs
from beffroi.broker.embedded import EmbeddedBroker
from beffroi.cli.children import lifeline, run_child
from beffroi.cli.common import console, spawned
from beffroi.cli.ports import port_taken, quiet_taken_port
from beffroi.config import BrokerUrl, Settings
from beffroi.core.context import open_runtime
from beffroi.db.engine import Database

# How long the broker may take to load the credentials and listen.
START_TIMEOUT_S = 60.0


async def start_broker(current: Settings, db: Database) -> EmbeddedBroker:
    """The embedded broker on the configured port, or on a free one if it is taken: the
    expected path where a broker already runs, said in one line (not amqtt's traceback)."""
    try:
        with quiet_taken_port():
            broker = EmbeddedBroker(current, db)
            await broker.start()
        return broker
    except (BrokerError, OSError) as exc:
        if not port_taken(exc):
            raise
    broker = EmbeddedBroker(current.model_copy(update={"broker_port": 0}), db)
    await broker.start()
    console.print(
        f"[yellow]port {current.broker_port} is taken, the embedded broker listens on "
        f"{broker.port}[/yellow]",
        soft_wrap=True,
    )
    return broker


def broker_process(settings_data: dict[str, Any], line: Connection) -> None:
    """Entry point of the broker's process: listen, send the port to the parent on its
    lifeline (None if the broker could not start), serve until the parent stops it."""
    current = Settings(**settings_data)
    logs.configure(current.log_level, current.log_format)

    async def _main(stop: asyncio.Event) -> None:
        async with open_runtime(current) as runtime:
            try:
                broker = await start_broker(current, runtime.db)
            except BaseException:
                line.send(None)
                raise
            try:
                line.send(broker.port)
                await stop.wait()
            finally:
                await broker.stop()

    run_child(_main, line)


def _port(line: Connection) -> int | None:
    if not line.poll(START_TIMEOUT_S):
        return None
    try:
        port: int | None = line.recv()
    except EOFError:  # the child died before saying anything
        return None
    return port


@contextlib.asynccontextmanager
async def broker_in_process(current: Settings) -> AsyncIterator[BrokerUrl]:
    """The embedded broker running in a child process; yields where it listens. The
    child is stopped (SIGTERM, then killed) and reaped on exit."""
    ours, theirs = lifeline()
    with ours, spawned(broker_process, (current.model_dump(), theirs), "beffroi-broker") as child:
        theirs.close()
        port = await asyncio.to_thread(_port, ours)
        if port is None or not child.is_alive():
            raise RuntimeError(
                "the embedded MQTT broker did not start (its error is printed above)"
            )
        yield BrokerUrl(current.broker_host, port)
