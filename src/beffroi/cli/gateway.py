"""``beffroi gateway``: a device gateway worker (with the embedded broker when none is set)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer

from beffroi.cli import reach
from beffroi.cli.common import broker_option, out, settings
from beffroi.cli.gateway_broker import embedded_broker, watch_broker
from beffroi.cli.serve import bind_socket, build_app, serve_app
from beffroi.config import BrokerUrl
from beffroi.core import process
from beffroi.core.context import open_runtime
from beffroi.core.process import Process
from beffroi.devices.mosquitto_keeper import MosquittoKeeper
from beffroi.events import relay
from beffroi.gateway.runner import Gateway, broker_address


def gateway(
    broker: Annotated[
        BrokerUrl | None,
        typer.Option(parser=broker_option, help="mqtt://host:port; default BEFFROI_MQTT_URL"),
    ] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve /metrics and /api/health on this port")
    ] = None,
) -> None:
    """Subscribe to the devices and ingest what they report, until stopped.

    Without a broker URL (BEFFROI_MQTT_URL empty), it runs the embedded broker itself on
    BEFFROI_BROKER_HOST:BEFFROI_BROKER_PORT. Several gateways share the load of a
    clustering broker with BEFFROI_MQTT_SHARED_GROUP and distinct BEFFROI_MQTT_CLIENT_ID.
    With BEFFROI_MOSQUITTO_PASSWORD_FILE set, it also keeps Mosquitto's files in step.
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

    async def _main(stop: asyncio.Event) -> None:
        async with open_runtime(current) as runtime, contextlib.AsyncExitStack() as stack:
            await reach.require_ready(runtime)
            version = 5 if current.mqtt_protocol == "5" else 4
            target = url
            if not target:
                embedded = await stack.enter_async_context(embedded_broker(current, runtime))
                target = embedded.url
                out.print(f"embedded MQTT broker on [bold]{target}[/bold]")
            address = broker_address(runtime, target, version, embedded=not url)
            worker = Gateway(runtime, address)
            async with Process(stop) as gatewaying:
                gatewaying.start("gateway", worker.run(stop))
                # What the gateway publishes reaches the API processes' hubs (PostgreSQL).
                relay.start(gatewaying, runtime)
                if current.keeps_mosquitto:
                    keeper = MosquittoKeeper(current, runtime.db)
                    await keeper.start()
                    gatewaying.start("mosquitto-keeper", keeper.run(stop))
                    out.print(f"keeping Mosquitto's {keeper.password_file} in step")
                if sock is not None:
                    app = build_app(runtime, operations_only=True)
                    gatewaying.start("operations-api", serve_app(app, sock, stop))
                out.print(f"gateway ingesting from {target}")
                gatewaying.start(
                    "broker-watch", watch_broker(worker, address.host, address.port, stop)
                )
        out.print("gateway stopped")

    process.run(_main)
