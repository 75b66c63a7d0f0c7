"""Faults during ingestion: the gateway killed, the database restarted, the broker
restarted. Real processes: Mosquitto, ``beffroi gateway`` and, for the database restart,
a private PostgreSQL cluster of the test's own.

Mosquitto is the broker here: it redelivers what was sent but not acknowledged to a
returning persistent session, which at-least-once needs. (The embedded broker does not
redeliver in-flight messages: it is for demonstrations, see docs/device-api.md.)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from beffroi import migrations as migrate
from beffroi.communes.service import ensure_default_communes
from beffroi.config import load_settings
from beffroi.core.context import Context, Runtime
from beffroi.db import Database
from beffroi.devices.credentials import issue_credentials
from beffroi.devices.mosquitto import write_mosquitto_files
from beffroi.telemetry.models import TelemetryPoint
from tests.integration.test_ingest import small_fleet
from tests.mqtt_support import Mosquitto, free_port, start_mosquitto, wait_for_port

pytestmark = pytest.mark.asyncio
ROOT = "beffroi/v1"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
CONNECTED = "gateway connected to the broker"


@contextlib.contextmanager
def gateway_process(
    database_url: str, broker_url: str, log: Path, queue_max: int = 20_000
) -> Iterator[subprocess.Popen[bytes]]:
    """``beffroi gateway`` in a subprocess, subscribed when this yields; stopped (or killed)
    and reaped at the end whatever happens."""
    env = {
        **os.environ,
        "BEFFROI_DATABASE_URL": database_url,
        "BEFFROI_MQTT_URL": broker_url,
        "BEFFROI_MQTT_CLIENT_ID": "fault-gateway",
        "BEFFROI_INGEST_BATCH_SIZE": "200",
        "BEFFROI_INGEST_QUEUE_MAX": str(queue_max),
    }
    connected = log.read_text().count(CONNECTED) if log.exists() else 0
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "beffroi", "gateway"], env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while log.read_text().count(CONNECTED) <= connected:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the gateway did not connect:\n{log.read_text()}")
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Device:
    """A device publishing QoS 1 telemetry with one distinct timestamp per message."""

    def __init__(self, url: str, username: str, secret: str) -> None:
        host, port = url.removeprefix("mqtt://").split(":")
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=username)
        self.client.username_pw_set(username, secret)
        self.client.max_inflight_messages_set(0)
        self.client.reconnect_delay_set(1, 2)
        self.client.connect(host, int(port))
        self.client.loop_start()
        self.base = datetime.now(UTC) - timedelta(minutes=30)
        self.sent = 0
        self.infos: list[mqtt.MQTTMessageInfo] = []

    def publish(self, count: int) -> None:
        """Publish ``count`` more messages (3 values each)."""
        for _ in range(count):
            ts = (self.base + timedelta(milliseconds=self.sent)).isoformat()
            body = {
                "ts": ts,
                "values": {"mode": "normal", "plan": 1 + self.sent % 9, "cycle_s": 90},
            }
            topic = f"{ROOT}/devices/TC-1/telemetry"
            self.infos.append(self.client.publish(topic, orjson.dumps(body), qos=1))
            self.sent += 1

    def close(self) -> None:
        """Wait for the broker's acknowledgements, then disconnect."""
        for info in self.infos:
            info.wait_for_publish(30)
        self.client.disconnect()
        self.client.loop_stop()


async def stored(database_url: str) -> int:
    """Points in the database."""
    db = Database(database_url)
    try:
        async with db.read() as session:
            return int(
                (
                    await session.execute(select(func.count()).select_from(TelemetryPoint))
                ).scalar_one()
            )
    except Exception:  # the database may be down on purpose
        return -1
    finally:
        await db.dispose()


async def wait_stored(database_url: str, expected: int, seconds: float = 60) -> int:
    """Poll until ``expected`` points are stored; returns the last count."""
    count = -1
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while (count := await stored(database_url)) < expected:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
    return count


@contextlib.asynccontextmanager
async def provisioned_broker(
    system: Context, tmp_path: Path
) -> AsyncIterator[tuple[Mosquitto, str]]:
    """A Mosquitto provisioned by Beffroi, and the secret of the traffic controller TC-1."""
    await small_fleet(system)
    secret = dict(await issue_credentials(system, ["TC-1"]))["TC-1"]
    passwords, acl = tmp_path / "passwords", tmp_path / "acl"
    await write_mosquitto_files(system, passwords, acl)
    with start_mosquitto(
        tmp_path, password_file=passwords, acl_file=acl, extra_config="max_queued_messages 1000000"
    ) as broker:
        yield broker, secret


async def test_gateway_killed_mid_stream_stores_every_message_exactly_once(
    system: Context, runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    async with provisioned_broker(system, tmp_path) as (broker, secret):
        log = tmp_path / "gateway.log"
        with gateway_process(database_url, broker.hub_url, log) as first:
            device = Device(broker.url, "TC-1", secret)
            device.publish(3000)
            # Kill it while it is writing: some batches stored, some in flight, some queued.
            await wait_stored(database_url, 1500)
            first.send_signal(signal.SIGKILL)
            first.wait()
            device.publish(1000)  # queued by the broker for the gateway's session
        with gateway_process(database_url, broker.hub_url, log):
            device.publish(1000)
            await asyncio.to_thread(device.close)
            count = await wait_stored(database_url, 5000 * 3)
        assert count == 5000 * 3, f"{count} points stored for 15000 sent; see {log}"


async def test_broker_restart_gateway_reconnects_by_itself(
    system: Context, runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    async with provisioned_broker(system, tmp_path) as (broker, secret):
        log = tmp_path / "gateway.log"
        with gateway_process(database_url, broker.hub_url, log):
            device = Device(broker.url, "TC-1", secret)
            device.publish(200)
            await asyncio.to_thread(device.close)
            assert await wait_stored(database_url, 600) == 600
            connections = log.read_text().count(CONNECTED)
            broker.stop()
            await asyncio.sleep(1)
            broker.restart()
            async with asyncio.timeout(30):  # the gateway reconnects on its own
                while log.read_text().count(CONNECTED) <= connections:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
            device = Device(broker.url, "TC-1", secret)
            device.base += timedelta(seconds=10)
            device.publish(200)
            await asyncio.to_thread(device.close)
            assert await wait_stored(database_url, 1200) == 1200


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own, so it can be stopped and started."""

    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
            pytest.skip("needs Debian's PostgreSQL server binaries and runuser")
        self.folder = Path(tempfile.mkdtemp(prefix="beffroi-pg-"))
        shutil.chown(self.folder, "postgres")
        self.data = self.folder / "data"
        self.port = free_port()
        self._as_postgres(PG_BIN / "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: object) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *map(str, args)],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            PG_BIN / "pg_ctl",
            "-D",
            self.data,
            "-o",
            options,
            "-l",
            self.folder / "log",
            "-w",
            "start",
        )
        wait_for_port("127.0.0.1", self.port)

    def stop(self) -> None:
        """Stop the server (fast shutdown: connections are cut)."""
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        """Stop if running and delete the cluster."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


async def test_database_restart_mid_stream_loses_nothing(tmp_path: Path) -> None:
    postgres = PrivatePostgres()
    try:
        postgres.start()
        await asyncio.to_thread(migrate.upgrade, postgres.url)
        db = Database(postgres.url)
        runtime = Runtime(load_settings(database_url=postgres.url), db)
        system = runtime.system_context("tests")
        try:
            await ensure_default_communes(system)
            async with provisioned_broker(system, tmp_path) as (broker, secret):
                # A small pipeline: while the database is down the gateway must stop reading
                # the broker (bounded memory) and still lose nothing.
                log = tmp_path / "gateway.log"
                with gateway_process(postgres.url, broker.hub_url, log, queue_max=300):
                    device = Device(broker.url, "TC-1", secret)
                    device.publish(1500)
                    await wait_stored(postgres.url, 600)
                    await asyncio.to_thread(postgres.stop)
                    device.publish(1500)  # while the database is down
                    await asyncio.sleep(3)
                    await asyncio.to_thread(postgres.start)
                    await asyncio.to_thread(device.close)
                    count = await wait_stored(postgres.url, 3000 * 3, seconds=90)
            assert count == 3000 * 3, f"{count} points for 9000 sent"
            assert "database unavailable" in log.read_text()
            assert "database back" in log.read_text()
        finally:
            await db.dispose()
    finally:
        postgres.remove()


async def test_a_deadlock_or_a_shutdown_is_retried_not_isolated(
    backend: str, runtime: Runtime
) -> None:
    """PostgreSQL aborts one of two transactions that lock commands in opposite orders, or
    every transaction when it shuts down: the pipeline must retry the batch whole rather
    than take its data for bad data."""
    if backend != "postgresql":
        pytest.skip("SQLite has one writer: no deadlock")
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from beffroi.gateway.outages import is_transient

    cases = (("40P01", True), ("40001", True), ("57P01", True), ("08006", True), ("22003", False))
    for code, transient in cases:
        with pytest.raises(DBAPIError) as caught:
            async with runtime.db.write() as session:
                await session.execute(
                    text(f"DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '{code}'; END $$")
                )
        assert is_transient(caught.value) is transient, code
