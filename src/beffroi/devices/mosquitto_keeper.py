"""Keeping Mosquitto's password and ACL files in step with the database, by itself.

When the installation names the files (``BEFFROI_MOSQUITTO_PASSWORD_FILE``,
``BEFFROI_MOSQUITTO_ACL_FILE``) and how to reload the broker (``BEFFROI_MOSQUITTO_PID_FILE``
or ``BEFFROI_MOSQUITTO_RELOAD_COMMAND``), the gateway (or ``beffroi device
mosquitto-sync``) rewrites them on every issue, rotation and revocation: changes that
arrive together are written once (atomic replace), and Mosquitto is told to reload, within
about a second. On reload Mosquitto 2.0 disconnects a client whose username left the
password file or whose password changed; the others stay connected.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
from pathlib import Path

import paho.mqtt.client as mqtt
import structlog
from paho.mqtt.enums import CallbackAPIVersion

from beffroi.config import Settings
from beffroi.db import Database
from beffroi.devices.cache import Change
from beffroi.devices.following import Follower
from beffroi.devices.mosquitto import (
    hub_line,
    render_acl_file,
    render_password_file,
    write_atomically,
)

log = structlog.get_logger(__name__)

RELOAD_TIMEOUT_S = 30.0


class ReloadFailed(RuntimeError):
    """Mosquitto could not be told to reload; the message says why."""


async def reload_mosquitto(pid_file: Path | None, command: str) -> None:
    """SIGHUP the pid in ``pid_file``, or run ``command``; :class:`ReloadFailed` if not."""
    if pid_file is not None:
        try:
            pid = int((await asyncio.to_thread(pid_file.read_text)).strip())
            os.kill(pid, signal.SIGHUP)
        except (OSError, ValueError) as exc:
            raise ReloadFailed(f"cannot signal the pid in {pid_file}: {exc}") from exc
        return
    try:
        process = await asyncio.create_subprocess_exec(
            *shlex.split(command),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(RELOAD_TIMEOUT_S):
            _, stderr = await process.communicate()
    except (OSError, ValueError, TimeoutError) as exc:
        raise ReloadFailed(f"cannot run {command!r}: {exc}") from exc
    if process.returncode:
        said = stderr.decode(errors="replace").strip()[:200]
        raise ReloadFailed(f"{command!r} exited with {process.returncode}: {said}")


class MosquittoKeeper:
    """Writes Mosquitto's files from the credentials and reloads it on every change."""

    def __init__(self, settings: Settings, db: Database) -> None:
        if settings.mosquitto_password_file is None or settings.mosquitto_acl_file is None:
            raise ValueError("BEFFROI_MOSQUITTO_PASSWORD_FILE and _ACL_FILE are not set")
        self.settings = settings
        self.password_file = settings.mosquitto_password_file
        self.acl_file = settings.mosquitto_acl_file
        self.follower = Follower(db, f"mosquitto files {self.password_file}", self._apply)
        self._hub: str | None = None

    async def start(self) -> None:
        """Load the credentials, write both files and reload Mosquitto once."""
        await self.follower.start()
        settings = self.settings
        # The hub's password is hashed slowly on purpose: once per process.
        self._hub = await asyncio.to_thread(
            hub_line, settings.mqtt_username, settings.hub_mqtt_password
        )
        acl = render_acl_file(settings.mqtt_root, settings.mqtt_username)
        await asyncio.to_thread(write_atomically, self.acl_file, acl)
        await self._apply([])
        await self.follower.announce()

    async def _apply(self, found: list[Change]) -> None:
        assert self._hub is not None, "start() first"
        text = render_password_file(self.follower.cache.active(), self._hub)
        await asyncio.to_thread(write_atomically, self.password_file, text)
        await reload_mosquitto(
            self.settings.mosquitto_pid_file, self.settings.mosquitto_reload_command
        )
        await asyncio.to_thread(self._confirm_reload)
        log.info(
            "mosquitto files written and reloaded",
            devices=len(self.follower.cache),
            changed=len(found),
        )

    def _confirm_reload(self) -> None:
        """Return once Mosquitto has reloaded: two acknowledged round trips on the hub's
        listener. Mosquitto reloads at the top of its main loop, so once a second message
        is acknowledged after the signal, the loop went round at least once after it."""
        settings = self.settings
        address = settings.mqtt_url
        if address is None:
            return
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{settings.mqtt_client_id}-keeper"[:64],
            protocol=mqtt.MQTTv311,
        )
        client.username_pw_set(settings.mqtt_username, settings.hub_mqtt_password)
        try:
            client.connect(address.host, address.port, keepalive=10)
            client.loop_start()
            for _ in range(2):
                sent = client.publish(f"{settings.mqtt_root}/hub/reloaded", b"", qos=1)
                sent.wait_for_publish(RELOAD_TIMEOUT_S)
                if not sent.is_published():
                    raise ReloadFailed("Mosquitto did not acknowledge after the reload")
        except ReloadFailed:
            raise
        except (OSError, ValueError, RuntimeError) as exc:
            raise ReloadFailed(f"cannot reach Mosquitto at {address}: {exc}") from exc
        finally:
            client.disconnect()
            client.loop_stop()

    async def run(self, stop: asyncio.Event) -> None:
        """Keep the files in step until ``stop`` (call :meth:`start` first)."""
        await self.follower.run(stop)
