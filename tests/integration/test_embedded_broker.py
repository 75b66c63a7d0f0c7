"""The embedded broker does not hand one device the retained messages of others."""

from __future__ import annotations

import asyncio
import threading

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from beffroi.core.context import Context, Runtime
from tests.mqtt_support import make_device_site, start_embedded_broker

pytestmark = pytest.mark.asyncio
ROOT = "beffroi/v1"


async def client(
    port: int, username: str, password: str, received: list[str], client_id: str = ""
) -> mqtt.Client:
    """A connected paho client recording the topics it receives (waiting off the event
    loop: the broker answers on it)."""
    done = threading.Event()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or username)
    c.username_pw_set(username, password)
    c.on_message = lambda _c, _u, msg: received.append(msg.topic)
    c.on_connect = lambda *_args: done.set()
    await asyncio.to_thread(c.connect, "127.0.0.1", port)
    c.loop_start()
    assert await asyncio.to_thread(done.wait, 10)
    return c


async def arrives(topic: str, seen: list[str], seconds: float = 10.0) -> None:
    """Wait until a client received ``topic`` (fail after ``seconds``)."""
    async with asyncio.timeout(seconds):
        while topic not in seen:  # noqa: ASYNC110 - paho's thread appends: no event to await
            await asyncio.sleep(0.02)


async def test_a_newcomer_gets_no_other_devices_retained_status(
    system: Context, runtime: Runtime
) -> None:
    site = await make_device_site(system)
    settings = runtime.settings
    async with start_embedded_broker(runtime) as broker:
        assert broker.port is not None
        hub_seen: list[str] = []
        hub = await client(
            broker.port, settings.mqtt_username, settings.hub_mqtt_password, hub_seen
        )
        hub.subscribe(f"{ROOT}/devices/+/status", qos=1)
        other = await client(broker.port, site.other, site.secrets[site.other], [])
        status = f"{ROOT}/devices/{site.other}/status"
        info = other.publish(status, b'{"online": true}', qos=1, retain=True)
        await asyncio.to_thread(info.wait_for_publish, 5)
        await arrives(status, hub_seen)

        newcomer_seen: list[str] = []
        newcomer = await client(
            broker.port, site.gateway, site.secrets[site.gateway], newcomer_seen
        )
        newcomer.subscribe(f"{ROOT}/devices/{site.gateway}/commands/+", qos=1)
        await asyncio.sleep(1.0)  # what must not come: waiting is the test
        assert newcomer_seen == [], "another device's retained status leaked to it"

        late_hub: list[str] = []
        again = await client(
            broker.port, settings.mqtt_username, settings.hub_mqtt_password, late_hub, "hub-2"
        )
        again.subscribe(f"{ROOT}/devices/+/status", qos=1)
        # A subscriber that may see it still gets the retained status.
        await arrives(status, late_hub)
        for c in (hub, other, newcomer, again):
            c.disconnect()
            c.loop_stop()
