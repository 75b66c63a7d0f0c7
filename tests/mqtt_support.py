"""MQTT brokers for tests: a private Mosquitto per test, and the embedded broker.

``start_mosquitto`` runs the real ``mosquitto`` binary in the foreground on a free loopback
port, logging to a file in the test's directory, and stops it (and waits for it) at the end,
so no process outlives its test. Without the binary it skips with a reason, unless
``BEFFROI_TEST_REQUIRE_MOSQUITTO=1`` (as in CI), where it fails instead.

Usage::

    with start_mosquitto(tmp_path, password_file=pw, acl_file=acl) as broker:
        ...  # connect to 127.0.0.1:broker.port (or broker.url)
        broker.reload()  # SIGHUP: re-read the password and ACL files in place

    async with start_embedded_broker(runtime) as broker:
        ...  # the embedded amqtt broker on a free port, devices checked against the DB

    async with keeping(runtime, mosquitto, password_file, acl_file):
        ...  # Beffroi's keeper rewrites Mosquitto's files on every credential change

    site = await make_device_site(system)  # cabinet G, its streetlight A, a streetlight B
    site.secrets["A"]  # each device's secret (username = asset id)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import pytest

from beffroi.assets import importing
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.config import BrokerUrl
from beffroi.devices.credentials import issue_credentials
from beffroi.devices.mosquitto import Listener, render_broker_config
from beffroi.devices.mosquitto_keeper import MosquittoKeeper

if TYPE_CHECKING:
    from beffroi.broker.embedded import EmbeddedBroker
    from beffroi.core.context import Context, Runtime

REQUIRE_MOSQUITTO = os.environ.get("BEFFROI_TEST_REQUIRE_MOSQUITTO") == "1"
LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 10.0
# Mosquitto logs this line when SIGHUP made it re-read its configuration and files.
RELOAD_LINE = "Reloading config"


def mosquitto_binary() -> str:
    """The path of ``mosquitto``; skips the test (or fails it, when required) if absent."""
    found = shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.access(p, os.X_OK)),
        None,
    )
    if found:
        return found
    reason = "the mosquitto binary is not installed (apt-get install mosquitto)"
    if REQUIRE_MOSQUITTO:
        pytest.fail(f"Mosquitto is required (BEFFROI_TEST_REQUIRE_MOSQUITTO=1) but {reason}")
    pytest.skip(f"Mosquitto tests skipped: {reason}")


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_accepts(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on ``host:port`` right now."""
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_for_port(
    host: str,
    port: int,
    timeout_s: float = START_TIMEOUT_S,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Wait until ``host:port`` accepts connections; raise if ``process`` dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if port_accepts(host, port):
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with code {process.returncode} before listening")
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s} s")


class Mosquitto:
    """A private Mosquitto process for one test. Use :func:`start_mosquitto` to make one.

    ``port`` is the devices' listener; ``hub_port`` the hub's (the same port for an
    anonymous test broker, which has one listener).
    """

    def __init__(
        self, directory: Path, config: str, port: int, hub_port: int | None = None
    ) -> None:
        self.directory = directory
        self.port = port
        self.hub_port = hub_port or port
        self.host = LOOPBACK
        self.config_path = directory / "mosquitto.conf"
        self.log_path = directory / "mosquitto.log"
        self.config_path.write_text(config)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``mqtt://127.0.0.1:PORT`` of the devices' listener."""
        return f"mqtt://{self.host}:{self.port}"

    @property
    def hub_url(self) -> str:
        """``mqtt://127.0.0.1:PORT`` of the hub's listener, the form of ``BEFFROI_MQTT_URL``."""
        return f"mqtt://{self.host}:{self.hub_port}"

    @property
    def pid(self) -> int:
        """The broker's process id (for ``beffroi device mosquitto-files --hup PID``)."""
        assert self._process is not None, "broker not started"
        return self._process.pid

    def log(self) -> str:
        """What the broker logged so far (handy in assertion messages)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _start(self) -> None:
        self._process = subprocess.Popen(
            [mosquitto_binary(), "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for_port(self.host, self.port, process=self._process)
            wait_for_port(self.host, self.hub_port, process=self._process)
        except (RuntimeError, TimeoutError) as exc:
            stderr = self._finish()
            raise RuntimeError(f"mosquitto did not start: {exc}\n{stderr}\n{self.log()}") from exc

    def restart(self) -> None:
        """Start the broker again on the same port after :meth:`stop` (a broker restart)."""
        if self._process is not None and self._process.poll() is None:
            raise RuntimeError("mosquitto is still running")
        self._start()

    @property
    def reloads(self) -> int:
        """How many times the broker logged a reload (SIGHUP) so far."""
        return self.log().count(RELOAD_LINE)

    def wait_reloaded(self, after: int, timeout_s: float = 5.0) -> None:
        """Wait until more than ``after`` reloads were logged (e.g. after ``--hup PID``)."""
        deadline = time.monotonic() + timeout_s
        while self.reloads <= after:
            if time.monotonic() > deadline:
                raise TimeoutError(f"mosquitto did not log a reload:\n{self.log()}")
            time.sleep(0.01)
        # The line is logged before the files are read; one more main-loop turn applies them.
        time.sleep(0.05)

    def reload(self, timeout_s: float = 5.0) -> None:
        """SIGHUP: Mosquitto re-reads its password and ACL files, keeps other clients.

        Returns once the broker logged that it reloaded, so the next CONNECT sees the files.
        """
        if self._process is None or self._process.poll() is not None:
            raise RuntimeError("mosquitto is not running")
        before = self.reloads
        self._process.send_signal(signal.SIGHUP)
        self.wait_reloaded(before, timeout_s)

    def _finish(self) -> str:
        process, self._process = self._process, None
        if process is None:
            return ""
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
        if process.stderr:
            process.stderr.close()
        return stderr

    def stop(self) -> None:
        """Stop the broker and wait for it to exit. Safe to call twice."""
        self._finish()

    def __enter__(self) -> Mosquitto:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def mosquitto_config(
    port: int,
    log_path: Path,
    *,
    hub_port: int | None = None,
    password_file: Path | None = None,
    acl_file: Path | None = None,
    allow_anonymous: bool = False,
    extra_config: str = "",
) -> str:
    """The configuration of a private test broker.

    With password and ACL files it is what Beffroi generates for production
    (``render_broker_config``: a devices' listener binding client ids to usernames and a
    hub's listener); an anonymous broker has one plain listener.
    """
    lines = [
        # Started as root, Mosquitto would drop to user `mosquitto`, which may not read
        # files under the test's tmp_path nor write its log there: stay who we are.
        "user root",
        "persistence false",
        f"log_dest file {log_path}",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
        "connection_messages true",
        "log_timestamp_format %H:%M:%S",
    ]
    if password_file is not None and acl_file is not None and hub_port is not None:
        lines.append(
            render_broker_config(
                Listener(LOOPBACK, port), Listener(LOOPBACK, hub_port), password_file, acl_file
            )
        )
    else:
        lines += [
            "per_listener_settings false",
            f"listener {port} {LOOPBACK}",
            f"allow_anonymous {'true' if allow_anonymous else 'false'}",
            # Without it, each request/response round trip costs ~40 ms (Nagle + delayed ACK).
            "set_tcp_nodelay true",
        ]
        if password_file is not None:
            lines.append(f"password_file {password_file}")
        if acl_file is not None:
            lines.append(f"acl_file {acl_file}")
    if extra_config:
        lines.append(extra_config)
    return "\n".join(lines) + "\n"


def start_mosquitto(
    tmp_path: Path,
    *,
    password_file: Path | None = None,
    acl_file: Path | None = None,
    allow_anonymous: bool = False,
    extra_config: str = "",
) -> Mosquitto:
    """Start a private Mosquitto on free loopback ports; it listens when this returns.

    With a password file and an ACL file it has Beffroi's production layout: devices
    connect to ``.port`` (``.url``), the hub to ``.hub_port`` (``.hub_url``).

    ``extra_config`` adds configuration lines (e.g. ``max_queued_messages 100000``).
    Stop it with ``.stop()`` or use the result as a context manager.
    """
    mosquitto_binary()
    directory = tmp_path / "mosquitto"
    directory.mkdir(parents=True, exist_ok=True)
    last_error: Exception | None = None
    production = password_file is not None and acl_file is not None
    for _ in range(3):  # another process may grab the free port before Mosquitto binds it
        port = free_port()
        hub_port = free_port() if production else None
        config = mosquitto_config(
            port,
            directory / "mosquitto.log",
            hub_port=hub_port,
            password_file=password_file,
            acl_file=acl_file,
            allow_anonymous=allow_anonymous,
            extra_config=extra_config,
        )
        broker = Mosquitto(directory, config, port, hub_port)
        try:
            broker._start()
        except RuntimeError as exc:
            last_error = exc
            continue
        return broker
    raise RuntimeError(f"could not start mosquitto: {last_error}")


@contextlib.asynccontextmanager
async def start_embedded_broker(
    runtime: Runtime, *, recheck_interval_s: float = 0.0
) -> AsyncIterator[EmbeddedBroker]:
    """The embedded amqtt broker on a free loopback port, checking devices against the DB.

    Use ``broker.port`` (or ``broker.url``); the hub account is
    ``runtime.settings.mqtt_username`` with ``runtime.settings.hub_mqtt_password``. A failed
    login looks at the database again at once (``recheck_interval_s=0``), so credentials
    issued or rotated during a test work without waiting; ``await broker.refresh()`` makes
    a revocation effective.
    """
    from beffroi.broker.embedded import EmbeddedBroker

    settings = runtime.settings.model_copy(update={"broker_host": LOOPBACK, "broker_port": 0})
    async with EmbeddedBroker(
        settings, runtime.db, recheck_interval_s=recheck_interval_s
    ) as broker:
        yield broker


@contextlib.asynccontextmanager
async def keeping(
    runtime: Runtime, mosquitto: Mosquitto, passwords: Path, acl: Path
) -> AsyncIterator[MosquittoKeeper]:
    """Beffroi's keeper of Mosquitto's files, running until the block ends."""
    pid_file = mosquitto.directory / "mosquitto.pid"
    pid_file.write_text(f"{mosquitto.pid}\n")
    settings = runtime.settings.model_copy(
        update={
            # model_copy does not validate: the parsed URL, as settings hold it.
            "mqtt_url": BrokerUrl(mosquitto.host, mosquitto.hub_port),
            "mosquitto_password_file": passwords,
            "mosquitto_acl_file": acl,
            "mosquitto_pid_file": pid_file,
        }
    )
    keeper = MosquittoKeeper(settings, runtime.db)
    await keeper.start()
    stop = asyncio.Event()
    task = asyncio.create_task(keeper.run(stop))
    try:
        yield keeper
    finally:
        stop.set()
        await task


@dataclass(frozen=True, slots=True)
class DeviceSite:
    """A field gateway (lighting cabinet) ``gateway`` with its streetlight ``child``, and a
    streetlight ``other`` elsewhere; ``secrets`` maps each id to its issued secret."""

    gateway: str
    child: str
    other: str
    secrets: dict[str, str] = field(default_factory=dict)


async def make_device_site(
    system: Context,
    *,
    gateway: str = "LC-TAL-0001",
    child: str = "SL-TAL-00001",
    other: str = "SL-CHE-00001",
) -> DeviceSite:
    """Register a cabinet with one streetlight in Talant and a streetlight in Chenôve, and
    issue credentials for the three."""
    talant, chenove = (5.005, 47.337), (5.006, 47.292)
    items = [
        AssetCreate(
            id=gateway,
            type="lighting_cabinet",
            name="Armoire Talant",
            commune="talant",
            location=Point(coordinates=talant),
        ),
        AssetCreate(
            id=child,
            type="streetlight",
            name="Point lumineux Talant",
            commune="talant",
            location=Point(coordinates=talant),
            parent_id=gateway,
        ),
        AssetCreate(
            id=other,
            type="streetlight",
            name="Point lumineux Chenôve",
            commune="chenove",
            location=Point(coordinates=chenove),
        ),
    ]
    report = await importing.import_assets(system, list(enumerate(items, 1)), source="tests")
    assert not report.errors, report.errors
    issued = await issue_credentials(system, [gateway, child, other])
    return DeviceSite(gateway, child, other, dict(issued))
