"""``beffroi gateway``: a device gateway worker (with the embedded broker when none is set)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

import typer
from amqtt.errors import BrokerError
from rich.markup import escape

from beffroi.broker.embedded import EmbeddedBroker
from beffroi.cli import reach
from beffroi.cli.common import console, out, ready_runtime, settings
from beffroi.cli.ports import PortTaken, port_taken, quiet_taken_port
from beffroi.cli.serve import bind_socket, serve_app, stop_on_signals
from beffroi.config import Settings
from beffroi.context import Runtime
from beffroi.events import relay
from beffroi.gateway.runner import Gateway, broker_address
from beffroi.web.app import create_app

# How long the gateway may take to reach its broker before it is said, then between looks.
FIRST_WAIT_S = 3.0
LAST_WAIT_S = 60.0


async def watch_broker(worker: Gateway, host: str, port: int) -> None:
    """Until the gateway reaches its broker, say why not: one warning line for each kind of
    failure, not one per attempt. The gateway itself keeps trying (a broker restarts, a
    network comes back), so this is a warning and not a reason to stop."""
    said: str | None = None
    wait = FIRST_WAIT_S
    while True:
        try:
            await worker.wait_connected(wait)
        except TimeoutError:
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
            continue
        if said is not None:
            out.print(f"gateway reached the MQTT broker at {host}:{port}", soft_wrap=True)
        return


@contextlib.asynccontextmanager
async def _embedded_broker(current: Settings, runtime: Runtime) -> AsyncIterator[EmbeddedBroker]:
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


def gateway(
    broker: Annotated[
        str | None, typer.Option(help="mqtt://host:port; default BEFFROI_MQTT_URL")
    ] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve /metrics and /api/health on this port")
    ] = None,
) -> None:
    """Subscribe to the devices and ingest what they report, until stopped.

    Without a broker URL (BEFFROI_MQTT_URL empty), it runs the embedded broker itself on
    BEFFROI_BROKER_HOST:BEFFROI_BROKER_PORT. Several gateways share the load of a
    clustering broker with BEFFROI_MQTT_SHARED_GROUP and distinct BEFFROI_MQTT_CLIENT_ID.
    """
    current = settings()
    url = broker or current.mqtt_url
    sock = (
        bind_socket(
            current.host, metrics_port, fallback=False, instead="give --metrics-port a free one"
        )
        if metrics_port
        else None
    )

    async def _main() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        async with ready_runtime(current) as runtime, contextlib.AsyncExitStack() as stack:
            version = 5 if current.mqtt_protocol == "5" else 4
            target = url
            if not target:
                embedded = await stack.enter_async_context(_embedded_broker(current, runtime))
                target = embedded.url
                out.print(f"embedded MQTT broker on [bold]{target}[/bold]")
            address = broker_address(runtime, target, version, embedded=not url)
            worker = Gateway(runtime, address)
            # What the gateway publishes reaches the API processes' hubs (PostgreSQL).
            tasks = [asyncio.create_task(worker.run(stop)), relay.start(runtime, stop)]
            if sock is not None:
                app = create_app(runtime, operations_only=True)
                tasks.append(asyncio.create_task(serve_app(app, sock, stop)))
            out.print(f"gateway ingesting from {target}")
            watcher = asyncio.create_task(watch_broker(worker, address.host, address.port))
            try:
                await asyncio.gather(*tasks)
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
        out.print("gateway stopped")

    asyncio.run(_main())
