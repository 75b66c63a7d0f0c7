"""Device access control with real MQTT clients, on Mosquitto and on the embedded broker.

Mosquitto is provisioned by ``write_mosquitto_files`` (which also proves it accepts our
``$7$`` hashes); the embedded broker checks the database through its plugins. Both must
keep every device to its own topics: a device cannot log in as another, publish as
another, or read another's commands, and a revoked device is refused after a reload.

"Never receives" checks wait a short while after a later message that did arrive through
the same path, so they are both quick and meaningful.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from beffroi.assets import service as assets
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.core.context import Context, Runtime
from beffroi.db import Database
from beffroi.devices import changes, topics
from beffroi.devices.credentials import issue_credentials, revoke_credentials
from beffroi.devices.mosquitto import write_mosquitto_files
from beffroi.devices.topics import Channel, Topic
from tests.mqtt_support import (
    DeviceSite,
    keeping,
    make_device_site,
    start_embedded_broker,
    start_mosquitto,
)

NEVER_S = 0.6  # how long a "never receives" check waits
ARRIVAL_S = 5.0  # how long an expected message may take
NOT_AUTHORISED = (5, 135)  # CONNACK codes: MQTT 3.1.1 and 5
SUBSCRIBE_REFUSED = 0x80
_client_ids = itertools.count(1)


@dataclass
class Target:
    """A running broker with the site's devices, and how to wait for credential changes."""

    kind: str
    port: int
    site: DeviceSite
    hub: tuple[str, str]
    root: str
    db: Database
    hub_port: int = 0

    def client(
        self,
        username: str,
        password: str | None = None,
        *,
        client_id: str | None = None,
        persistent: bool = False,
        will: aiomqtt.Will | None = None,
    ) -> aiomqtt.Client:
        """A client for ``username``, with its issued secret unless told otherwise; its
        client id is its username unless told otherwise."""
        secret = self.site.secrets.get(username, "") if password is None else password
        return aiomqtt.Client(
            "127.0.0.1",
            self.port,
            username=username,
            password=secret,
            identifier=username if client_id is None else client_id,
            clean_session=not persistent,
            will=will,
            protocol=aiomqtt.ProtocolVersion.V311,
            timeout=ARRIVAL_S,
        )

    def hub_client(self) -> aiomqtt.Client:
        """The hub's own client, on the hub's listener."""
        return aiomqtt.Client(
            "127.0.0.1",
            self.hub_port or self.port,
            username=self.hub[0],
            password=self.hub[1],
            identifier=f"hub-{next(_client_ids)}",
            timeout=ARRIVAL_S,
        )

    async def applied(self) -> None:
        """Return once every running broker applied the latest credential change, as the
        ``beffroi device`` commands do before they return."""
        result = await changes.wait_applied(self.db, await changes.head(self.db))
        assert not result.late, result
        assert result.confirmed, result

    def topic(self, channel: Channel, device: str, **parts: Any) -> str:
        """A device API topic under this deployment's root."""
        return topics.build(Topic(channel, device, **parts), self.root)


@pytest.fixture(params=["mosquitto", "embedded"])
async def target(
    request: pytest.FixtureRequest, runtime: Runtime, system: Context, tmp_path: Path
) -> AsyncIterator[Target]:
    """The site's devices behind one broker kind. Mosquitto's files are kept in step by
    Beffroi's keeper (reloading it through its pid file), as in production."""
    site = await make_device_site(system)
    settings = runtime.settings
    hub = (settings.mqtt_username, settings.hub_mqtt_password)
    if request.param == "embedded":
        async with start_embedded_broker(runtime) as embedded:
            assert embedded.port is not None
            yield Target("embedded", embedded.port, site, hub, settings.mqtt_root, runtime.db)
        return
    passwords, acl = tmp_path / "passwd", tmp_path / "acl"
    await write_mosquitto_files(system, passwords, acl)
    with start_mosquitto(tmp_path, password_file=passwords, acl_file=acl) as mosquitto:
        async with keeping(runtime, mosquitto, passwords, acl):
            yield Target(
                "mosquitto",
                mosquitto.port,
                site,
                hub,
                settings.mqtt_root,
                runtime.db,
                mosquitto.hub_port,
            )


def code(reason: int | ReasonCode | None) -> int | None:
    """A reason code as a number, whichever way the client library gave it."""
    return reason.value if isinstance(reason, ReasonCode) else reason


async def refused(client: aiomqtt.Client) -> bool:
    """Whether the broker refuses this client's CONNECT as not authorised."""
    try:
        async with client:
            return False
    except aiomqtt.MqttCodeError as exc:
        return code(exc.rc) in NOT_AUTHORISED


async def collect(client: aiomqtt.Client, seconds: float, until: str | None = None) -> list[str]:
    """Topics received within ``seconds``; stops early after one on ``until``."""
    received: list[str] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            async for message in client.messages:
                received.append(message.topic.value)
                if message.topic.value == until:
                    break
    return received


async def test_each_device_logs_in_with_its_own_secret_only(target: Target) -> None:
    a, b = target.site.child, target.site.other
    async with target.client(a):
        pass
    async with target.hub_client():
        pass
    assert await refused(target.client(a, "wrong")), "wrong secret"
    assert await refused(target.client(a, target.site.secrets[b])), "another device's secret"
    assert await refused(target.client("NOBODY", "x")), "unknown device"
    assert await refused(target.client(target.hub[0], target.site.secrets[a])), "hub, bad pw"
    anonymous = aiomqtt.Client("127.0.0.1", target.port, identifier="anonymous", timeout=5)
    assert await refused(anonymous), "anonymous"


def connect_and_vanish(port: int, username: str, secret: str, will_topic: str) -> bool:
    """Connect with a will on ``will_topic``, then drop the socket without DISCONNECT so
    the broker publishes the will. Returns whether the CONNECT was accepted."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=username, protocol=mqtt.MQTTv311)
    client.username_pw_set(username, secret)
    client.will_set(will_topic, b'{"online": false}', qos=1)
    answers: list[ReasonCode] = []
    client.on_connect = lambda _c, _u, _flags, reason, _props: answers.append(reason)
    client.connect("127.0.0.1", port)
    deadline = time.monotonic() + ARRIVAL_S
    while not answers and time.monotonic() < deadline:
        client.loop(timeout=0.05)
    sock = client.socket()
    if sock is not None:
        sock.close()
    return bool(answers) and not answers[0].is_failure


async def test_a_will_speaks_only_for_its_own_device(target: Target) -> None:
    a, b = target.site.child, target.site.other
    own, spoofed = target.topic(Channel.STATUS, a), target.topic(Channel.STATUS, b)
    secret = target.site.secrets[a]
    async with target.hub_client() as hub:
        await hub.subscribe(f"{target.root}/devices/+/status", qos=1)
        accepted = await asyncio.to_thread(connect_and_vanish, target.port, a, secret, spoofed)
        if target.kind == "embedded":
            assert not accepted, "refused at CONNECT (Mosquitto drops the will when sent)"
        assert await asyncio.to_thread(connect_and_vanish, target.port, a, secret, own)
        received = await collect(hub, ARRIVAL_S, until=own)
        received += await collect(hub, NEVER_S)
    assert own in received
    assert spoofed not in received, received


async def test_telemetry_reaches_the_hub_but_spoofing_does_not(target: Target) -> None:
    a, b, g = target.site.child, target.site.other, target.site.gateway
    own = target.topic(Channel.TELEMETRY, a)
    spoofed = [
        target.topic(Channel.TELEMETRY, b),
        target.topic(Channel.EVENTS, b),
        target.topic(Channel.REPLY, b, command_id="c1"),
        target.topic(Channel.TELEMETRY, b, gateway_id=g),  # another gateway's prefix
        target.topic(Channel.COMMAND, a, command_id="c1"),  # only the hub sends commands
    ]
    async with target.hub_client() as hub, target.client(a) as device:
        for topic_filter in [*topics.hub_subscriptions(target.root), f"{target.root}/#"]:
            await hub.subscribe(topic_filter, qos=1)
        for topic in spoofed:  # each gets its PUBACK and is silently dropped
            await device.publish(topic, b'{"values": {"power_w": 1}}', qos=1)
        await device.publish(own, b'{"values": {"power_w": 41.5}}', qos=1)
        received = await collect(hub, ARRIVAL_S, until=own)
        received += await collect(hub, NEVER_S)
    assert own in received
    assert not set(received) & set(spoofed), received


async def test_commands_reach_only_their_device(target: Target) -> None:
    a, b, root = target.site.child, target.site.other, target.root
    to_b = target.topic(Channel.COMMAND, b, command_id="c1")
    to_a = target.topic(Channel.COMMAND, a, command_id="c2")
    async with (
        target.hub_client() as hub,
        target.client(a) as spy,
        target.client(b) as device_b,
    ):
        await device_b.subscribe(f"{root}/devices/{b}/commands/+", qos=1)
        await spy.subscribe(f"{root}/devices/{a}/commands/+", qos=1)
        greedy = [
            f"{root}/devices/{b}/commands/+",
            f"{root}/devices/+/commands/+",
            f"{root}/#",
            "#",
            f"+/devices/{b}/commands/+",
        ]
        for topic_filter in greedy:
            granted = await spy.subscribe(topic_filter, qos=1)
            if target.kind == "embedded":  # Mosquitto grants it but delivers nothing
                assert [code(g) for g in granted] == [SUBSCRIBE_REFUSED]
        await hub.publish(to_b, b'{"name": "dim", "params": {"level_pct": 50}}', qos=1)
        assert to_b in await collect(device_b, ARRIVAL_S, until=to_b)
        await hub.publish(to_a, b'{"name": "dim", "params": {"level_pct": 10}}', qos=1)
        seen_by_a = await collect(spy, ARRIVAL_S, until=to_a)
        seen_by_a += await collect(spy, NEVER_S)
    assert to_a in seen_by_a, "A still gets its own commands"
    assert to_b not in seen_by_a, seen_by_a


async def test_a_gateway_relays_for_its_children(target: Target) -> None:
    g, a, root = target.site.gateway, target.site.child, target.root
    relayed = target.topic(Channel.TELEMETRY, a, gateway_id=g)
    command = target.topic(Channel.COMMAND, a, gateway_id=g, command_id="c3")
    async with target.hub_client() as hub, target.client(g) as gateway:
        await hub.subscribe(f"{root}/gateways/+/devices/+/telemetry", qos=1)
        await gateway.subscribe(f"{root}/gateways/{g}/devices/+/commands/+", qos=1)
        await gateway.publish(relayed, b'{"values": {"level_pct": 70}}', qos=1)
        assert relayed in await collect(hub, ARRIVAL_S, until=relayed)
        await hub.publish(command, b'{"name": "switch", "params": {"on": true}}', qos=1)
        assert command in await collect(gateway, ARRIVAL_S, until=command)


async def test_credential_changes_take_effect_when_the_command_returns(
    target: Target, system: Context
) -> None:
    a, b, g = target.site.child, target.site.other, target.site.gateway
    newcomer = "SL-TAL-00009"
    await assets.create_asset(
        system,
        AssetCreate(
            id=newcomer,
            type="streetlight",
            name="Point lumineux neuf",
            commune="talant",
            location=Point(coordinates=(5.005, 47.337)),
            parent_id=g,
        ),
    )
    await revoke_credentials(system, a)
    issued = dict(await issue_credentials(system, [newcomer, g]))
    await target.applied()
    async with target.client(newcomer, issued[newcomer]):
        pass
    async with target.client(g, issued[g]):
        pass
    assert await refused(target.client(a)), "revoked"
    assert await refused(target.client(g, target.site.secrets[g])), "rotated away"
    async with target.client(b):
        pass


async def wait_closed(client: aiomqtt.Client, seconds: float = ARRIVAL_S) -> bool:
    """Whether the broker ends ``client``'s connection within ``seconds``."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            try:
                async for _ in client.messages:
                    pass
            except aiomqtt.MqttError:
                return True
    return False


@pytest.mark.parametrize("change", ["revoke", "rotate"])
async def test_a_credential_change_ends_the_open_session(
    target: Target, system: Context, change: str
) -> None:
    """The device connected with the old secret is disconnected, what it publishes after
    the command returned reaches nobody, and (rotation) the new secret gets in."""
    a = target.site.child
    telemetry = target.topic(Channel.TELEMETRY, a)
    async with target.hub_client() as hub, target.client(a) as device:
        await hub.subscribe(telemetry, qos=1)
        await device.subscribe(f"{target.root}/devices/{a}/commands/+", qos=1)
        await device.publish(telemetry, b'{"values": {"power_w": 1}}', qos=1)
        assert telemetry in await collect(hub, ARRIVAL_S, until=telemetry)
        if change == "revoke":
            await revoke_credentials(system, a, reason="stolen")
        else:
            [(_, new_secret)] = await issue_credentials(system, [a])
        await target.applied()
        with contextlib.suppress(aiomqtt.MqttError):  # the broker may already have closed it
            await device.publish(telemetry, b'{"values": {"power_w": 2}}', qos=1)
        assert await wait_closed(device), "the old secret's session stayed open"
        assert telemetry not in await collect(hub, NEVER_S)
    assert await refused(target.client(a)), "the old secret is refused"
    if change == "rotate":
        async with target.client(a, new_secret):
            pass


async def test_a_client_id_belongs_to_its_username(target: Target) -> None:
    """Device B connecting with A's client id takes nothing of A: not its connection (no
    will saying A went offline), not its queued commands. The embedded broker refuses B;
    Mosquitto gives B its own username as client id."""
    a, b, root = target.site.child, target.site.other, target.root
    status_a = target.topic(Channel.STATUS, a)
    to_a = target.topic(Channel.COMMAND, a, command_id="c1")
    queued = target.topic(Channel.COMMAND, a, command_id="c2")
    will = aiomqtt.Will(status_a, b'{"online": false}', qos=1)
    async with target.hub_client() as hub:
        await hub.subscribe(f"{root}/devices/+/status", qos=1)
        async with target.client(a, persistent=True, will=will) as victim:
            await victim.subscribe(f"{root}/devices/{a}/commands/+", qos=1)
            impostor = target.client(b, client_id=a)
            if target.kind == "embedded":
                assert await refused(impostor), "a device may only use its own id"
            else:
                async with impostor as connected:
                    await connected.subscribe(f"{root}/devices/{b}/commands/+", qos=1)
            assert status_a not in await collect(hub, NEVER_S), "A's will was published"
            await hub.publish(to_a, b'{"name": "dim", "params": {"level_pct": 5}}', qos=1)
            assert to_a in await collect(victim, ARRIVAL_S, until=to_a), "A lost its session"
        # A is away with a persistent session: a command waits for it in the broker.
        await hub.publish(queued, b'{"name": "dim", "params": {"level_pct": 6}}', qos=1)
        stolen: list[str] = []
        with contextlib.suppress(aiomqtt.MqttError):
            async with target.client(b, client_id=a, persistent=True) as thief:
                await thief.subscribe(f"{root}/devices/{b}/commands/+", qos=1)
                stolen = await collect(thief, NEVER_S)
        assert queued not in stolen, "B received A's queued command"
        async with target.client(a, persistent=True) as back:
            assert queued in await collect(back, ARRIVAL_S, until=queued), "A's queue is kept"
