"""The gateway's broker, as the command line sees it: the embedded one on a port that may
be taken, and a broker the gateway cannot reach yet."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from amqtt.errors import BrokerError
from rich.markup import escape

from beffroi.broker.embedded import EmbeddedBroker
from beffroi.cli import reach
from beffroi.cli.common import console, out
from beffroi.cli.ports import PortTaken, port_taken, quiet_taken_port
from beffroi.config import Settings
from beffroi.core.context import Runtime
from beffroi.gateway.runner import Gateway

# How long the gateway may take to reach its broker before it is said, then between looks.
FIRST_WAIT_S = 3.0
LAST_WAIT_S = 60.0
# How often a look checks whether the command is stopping.
POLL_S = 0.25


async def _connected(worker: Gateway, stop: asyncio.Event, seconds: float) -> bool:
    """Whether the gateway connects within ``seconds``; False at once when stopping."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not stop.is_set() and asyncio.get_running_loop().time() < deadline:
        try:
            await worker.wait_connected(POLL_S)
        except TimeoutError:
            continue
        return True
    return False


async def watch_broker(worker: Gateway, host: str, port: int, stop: asyncio.Event) -> None:
    """Until the gateway reaches its broker, say why not: one warning line for each kind of
    failure, not one per attempt. The gateway itself keeps trying (a broker restarts, a
    network comes back), so this is a warning and not a reason to stop."""
    said: str | None = None
    wait = FIRST_WAIT_S
    while not stop.is_set():
        if await _connected(worker, stop, wait):
            if said is not None:
                out.print(f"gateway reached the MQTT broker at {host}:{port}", soft_wrap=True)
            return
        if stop.is_set():
            return
        why = await reach.broker_problem(host, port)
        if why != said:
            console.print(
                f"[yellow]warning:[/yellow] the gateway cannot get to the MQTT broker at "
                f"{escape(f'{host}:{port}')}: {escape(why)}; it keeps trying (the broker "
                "is --broker, else BEFFROI_MQTT_URL, else the embedded one)",
                soft_wrap=True,
            )
            said = why
        wait = min(wait * 2, LAST_WAIT_S)


@contextlib.asynccontextmanager
async def embedded_broker(current: Settings, runtime: Runtime) -> AsyncIterator[EmbeddedBroker]:
    """The embedded broker on BEFFROI_BROKER_PORT; devices are told that port, so a taken
    one stops the gateway with a line saying so (amqtt's own traceback quieted)."""
    broker = EmbeddedBroker(current, runtime.db)
    try:
        with quiet_taken_port():
            await broker.start()
    except (BrokerError, OSError) as exc:
        if not port_taken(exc):
            raise
        raise PortTaken(
            f"port {current.broker_port} on {current.broker_host} is taken: set "
            "BEFFROI_BROKER_PORT to a free one for the embedded broker, or BEFFROI_MQTT_URL "
            "(or --broker) to the broker already there"
        ) from None
    try:
        yield broker
    finally:
        await broker.stop()
