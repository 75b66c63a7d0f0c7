"""The gateway end to end: devices publish through a real broker, data lands in the
database, and the hub acknowledges only what it stored."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from beffroi.assets import service as assets
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.config import BrokerUrl
from beffroi.core.context import Context, Runtime
from beffroi.core.time import utcnow
from beffroi.devices import changes
from beffroi.devices.credentials import issue_credentials
from beffroi.devices.mosquitto import write_mosquitto_files
from beffroi.gateway.runner import Gateway, Schedule, broker_address
from beffroi.telemetry.events import TelemetryUpdated
from beffroi.telemetry.models import DeviceStatus, LatestValue, TelemetryPoint
from tests.integration.test_ingest import small_fleet
from tests.mqtt_support import keeping, start_embedded_broker, start_mosquitto

pytestmark = pytest.mark.asyncio
ROOT = "beffroi/v1"


@dataclass(frozen=True, slots=True)
class Broker:
    """A running broker and how the hub reaches it."""

    url: str  # where the hub connects
    version: int
    devices: str = ""  # where devices connect, when not the hub's listener

    @property
    def device_url(self) -> str:
        """The devices' listener."""
        return self.devices or self.url


@contextlib.asynccontextmanager
async def broker(
    kind: str, runtime: Runtime, system: Context, tmp_path: Path
) -> AsyncIterator[Broker]:
    """Mosquitto provisioned by Beffroi, or the embedded broker."""
    if kind == "embedded":
        async with start_embedded_broker(runtime) as embedded:
            yield Broker(f"mqtt://127.0.0.1:{embedded.port}", 4)
        return
    passwords, acl = tmp_path / "passwords", tmp_path / "acl"
    await write_mosquitto_files(system, passwords, acl)
    with start_mosquitto(
        tmp_path, password_file=passwords, acl_file=acl, extra_config="max_queued_messages 100000"
    ) as mosquitto:
        async with keeping(runtime, mosquitto, passwords, acl):
            yield Broker(mosquitto.hub_url, 5, mosquitto.url)


def device_client(url: str, username: str, secret: str) -> mqtt.Client:
    """A connected paho client acting as a device."""
    host, port = url.removeprefix("mqtt://").split(":")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=username, protocol=mqtt.MQTTv311)
    client.username_pw_set(username, secret)
    client.connect(host, int(port))
    client.loop_start()
    return client


async def points(runtime: Runtime) -> int:
    """Stored data points."""
    async with runtime.db.read() as session:
        return int(
            (await session.execute(select(func.count()).select_from(TelemetryPoint))).scalar_one()
        )


async def wait_for(predicate: Callable[[], Awaitable[bool]], seconds: float = 20.0) -> None:
    """Poll an async predicate until it holds."""
    async with asyncio.timeout(seconds):
        while not await predicate():  # noqa: ASYNC110 - polling the database: no event
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("kind", ["mosquitto", "embedded"])
async def test_devices_to_database_through_a_real_broker(
    kind: str, system: Context, runtime: Runtime, tmp_path: Path
) -> None:
    await small_fleet(system)
    secrets = dict(await issue_credentials(system, ["LC-1", "TC-1"]))
    async with broker(kind, runtime, system, tmp_path) as running:
        gateway = Gateway(
            runtime,
            broker_address(
                runtime, BrokerUrl.parse(running.url), running.version, embedded=kind == "embedded"
            ),
            schedule=Schedule(),
        )
        updates = runtime.events.subscribe(TelemetryUpdated)
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        try:
            await wait_for(lambda: _connected(gateway))
            cabinet = device_client(running.device_url, "LC-1", secrets["LC-1"])
            controller = device_client(running.device_url, "TC-1", secrets["TC-1"])
            base = utcnow() - timedelta(minutes=10)
            infos = []
            for n in range(200):
                ts = (base + timedelta(seconds=n)).isoformat()
                body = orjson.dumps(
                    {"ts": ts, "values": {"level_pct": n % 100, "power_w": 20.0 + n % 7}}
                )
                infos.append(
                    cabinet.publish(f"{ROOT}/gateways/LC-1/devices/SL-1/telemetry", body, qos=1)
                )
            infos.append(
                controller.publish(
                    f"{ROOT}/devices/TC-1/telemetry", orjson.dumps({"mode": "normal"}), qos=1
                )
            )
            for info in infos:
                await asyncio.to_thread(info.wait_for_publish, 10)
            await wait_for(lambda: _count_is(runtime, 401))
            event = await asyncio.wait_for(updates.get(), 10)
            assert isinstance(event, TelemetryUpdated)
            async with runtime.db.read() as session:
                level = (
                    await session.execute(
                        select(LatestValue.value).where(
                            LatestValue.asset_id == "SL-1", LatestValue.key == "level_pct"
                        )
                    )
                ).scalar_one()
            assert level == 199 % 100
            assert gateway.pipeline.stored_messages == 201
            for client in (cabinet, controller):
                client.disconnect()
                client.loop_stop()
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
            updates.close()


@pytest.mark.parametrize("kind", ["mosquitto", "embedded"])
async def test_a_gateway_speaks_for_its_children_in_bulk(
    kind: str, system: Context, runtime: Runtime, tmp_path: Path
) -> None:
    """One message for many lights: each child's part stored, a bad entry rejected alone,
    and a statement about another gateway's lights refused (by the broker, or the hub)."""
    await small_fleet(system)
    secrets = dict(await issue_credentials(system, ["LC-1", "TC-1"]))
    async with broker(kind, runtime, system, tmp_path) as running:
        gateway = Gateway(
            runtime,
            broker_address(
                runtime, BrokerUrl.parse(running.url), running.version, embedded=kind == "embedded"
            ),
            schedule=Schedule(),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        try:
            await wait_for(lambda: _connected(gateway))
            cabinet = device_client(running.device_url, "LC-1", secrets["LC-1"])
            ts = (utcnow() - timedelta(minutes=1)).isoformat()
            body = {
                "SL-1": [{"ts": ts, "values": {"level_pct": 40, "power_w": 12.5}}],
                "SL-2": {"ts": ts, "values": {"level_pct": 140}},  # out of range: alone
                "LC-1": {"ts": ts, "values": {"power_w": 800}},
                "TC-1": {"ts": ts, "values": {"mode": "normal"}},  # not its child
            }
            infos = [
                cabinet.publish(f"{ROOT}/gateways/LC-1/telemetry", orjson.dumps(body), qos=1),
                cabinet.publish(
                    f"{ROOT}/gateways/LC-1/status",
                    orjson.dumps({"SL-1": {"online": True}, "SL-2": {"online": False}}),
                    qos=1,
                ),
            ]
            for info in infos:
                await asyncio.to_thread(info.wait_for_publish, 10)
            await wait_for(lambda: _count_is(runtime, 3))
            await wait_for(lambda: _rejected(gateway, 2))

            async def statuses() -> dict[str, bool]:
                async with runtime.db.read() as session:
                    rows = await session.execute(select(DeviceStatus.asset_id, DeviceStatus.online))
                    return {row.asset_id: row.online for row in rows.all()}

            async def both_heard() -> bool:  # the status may come in a batch of its own
                return {"SL-1", "SL-2"} <= set(await statuses())

            await wait_for(both_heard)
            async with runtime.db.read() as session:
                stored = set((await session.execute(select(TelemetryPoint.asset_id))).scalars())
            assert stored == {"SL-1", "LC-1"}
            online = await statuses()
            assert online["SL-1"] is True
            assert online["SL-2"] is False
            cabinet.disconnect()
            cabinet.loop_stop()
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)


async def _rejected(gateway: Gateway, expected: int) -> bool:
    return gateway.pipeline.rejected == expected


@pytest.mark.parametrize("kind", ["mosquitto", "embedded"])
async def test_a_device_registered_a_moment_ago_is_heard_at_once(
    kind: str, system: Context, runtime: Runtime, tmp_path: Path
) -> None:
    """The gateway's directory refreshes every 30 s; the first messages of a device
    registered and provisioned after its last refresh must be stored all the same."""
    await small_fleet(system)
    async with broker(kind, runtime, system, tmp_path) as running:
        gateway = Gateway(
            runtime,
            broker_address(
                runtime, BrokerUrl.parse(running.url), running.version, embedded=kind == "embedded"
            ),
            schedule=Schedule(),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        try:
            await wait_for(lambda: _connected(gateway))
            await assets.create_asset(
                system,
                AssetCreate(
                    id="SL-NEW",
                    type="streetlight",
                    name="Point lumineux neuf",
                    commune="talant",
                    location=Point(coordinates=(5.005, 47.337)),
                ),
            )
            secret = dict(await issue_credentials(system, ["SL-NEW"]))["SL-NEW"]
            applied = await changes.wait_applied(runtime.db, await changes.head(runtime.db))
            assert not applied.late, applied
            assert "SL-NEW" not in gateway.directory, "the directory has not refreshed"
            device = device_client(running.device_url, "SL-NEW", secret)
            body = orjson.dumps({"values": {"level_pct": 40, "power_w": 12.5}})
            info = device.publish(f"{ROOT}/devices/SL-NEW/telemetry", body, qos=1)
            await asyncio.to_thread(info.wait_for_publish, 10)
            await wait_for(lambda: _count_is(runtime, 2))
            assert gateway.pipeline.rejected == 0
            device.disconnect()
            device.loop_stop()
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)


async def _connected(gateway: Gateway) -> bool:
    return gateway.source is not None and gateway.source.connected.is_set()


async def _count_is(runtime: Runtime, expected: int) -> bool:
    return await points(runtime) == expected


async def test_two_gateways_share_the_load_on_mosquitto(
    system: Context, runtime: Runtime, tmp_path: Path
) -> None:
    await small_fleet(system)
    secret = dict(await issue_credentials(system, ["TC-1"]))["TC-1"]
    async with broker("mosquitto", runtime, system, tmp_path) as running:
        workers = []
        for n in (1, 2):
            settings = runtime.settings.model_copy(
                update={"mqtt_shared_group": "beffroi", "mqtt_client_id": f"gateway-{n}"}
            )
            shared = Runtime(settings, runtime.db, runtime.events)
            workers.append(
                Gateway(
                    shared, broker_address(shared, BrokerUrl.parse(running.url), running.version)
                )
            )
        stop = asyncio.Event()
        tasks = [asyncio.create_task(w.run(stop)) for w in workers]
        try:
            for worker in workers:
                await worker.wait_connected()
            device = device_client(running.device_url, "TC-1", secret)
            base = utcnow() - timedelta(minutes=10)
            infos = [
                device.publish(
                    f"{ROOT}/devices/TC-1/telemetry",
                    orjson.dumps(
                        {
                            "ts": (base + timedelta(seconds=n)).isoformat(),
                            "values": {"plan": 1 + n % 9},
                        }
                    ),
                    qos=1,
                )
                for n in range(400)
            ]
            for info in infos:
                await asyncio.to_thread(info.wait_for_publish, 10)
            await wait_for(lambda: _count_is(runtime, 400))
            shares = [w.pipeline.stored_messages for w in workers]
            assert sum(shares) == 400
            assert all(share > 0 for share in shares), f"one gateway took it all: {shares}"
            device.disconnect()
            device.loop_stop()
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), 20)
