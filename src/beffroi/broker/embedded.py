"""The embedded MQTT broker (amqtt) of ``beffroi demo`` and small sites.

It never runs anonymous: an explicit ``plugins`` configuration replaces amqtt's defaults
(which allow anonymous access, and then keep no persistent session). Two plugins of ours
decide everything:

- :class:`DeviceAuthPlugin`: the hub's account against its configured password, else a
  device against its credentials in a :class:`CredentialCache`; a device's will must be on
  a topic it may publish on (amqtt sends wills unchecked);
- :class:`DeviceTopicPlugin`: PUBLISH, SUBSCRIBE and each delivery (RECEIVE) through
  :mod:`beffroi.devices.acl`, the same rules Mosquitto gets in its ACL file.

Checking a secret costs one PBKDF2 of 10 iterations (~13 µs measured, then ~2 µs from the
remembered check), so it runs inline: 1,000 devices reconnecting cost the event loop ~15 ms
of hashing, where amqtt's own argon2 file plugin would stall it for two minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin

from beffroi import metrics
from beffroi.broker.amqtt_fixes import FixedBroker
from beffroi.config import Settings
from beffroi.db import Database
from beffroi.devices.acl import may_publish, may_receive, may_subscribe
from beffroi.devices.credentials import CredentialCache, is_hub_login
from beffroi.telemetry.decode import Reason

log = logging.getLogger(__name__)

# How often the credential cache looks at the database (one small query when unchanged).
REFRESH_INTERVAL_S = 10.0
# A failed login (unknown username, or a secret that does not match what the cache holds)
# makes the broker look at the database at most this often: a device issued or rotated a
# moment ago gets in within a second, and a flood of bad logins cannot hammer the database.
RECHECK_INTERVAL_S = 1.0
# amqtt (and the state machine library it uses) log every connection and packet at INFO.
NOISY_LOGGERS = ("amqtt", "transitions")


class Gatekeeper:
    """Who may connect and which topics they may use: what both plugins ask."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        cache: CredentialCache,
        recheck_interval_s: float = RECHECK_INTERVAL_S,
    ) -> None:
        self.settings = settings
        self.db = db
        self.cache = cache
        self.recheck_interval_s = recheck_interval_s

    async def authenticate(
        self, username: str | None, password: str | None, will_topic: str | None = None
    ) -> bool:
        """The hub's account, or a device with its active secret. Nobody anonymous.

        A device's will must be a topic it may publish on: amqtt sends wills without any
        topic check, so a will on another device's status topic would spoof it (Mosquitto
        refuses such a CONNECT too).
        """
        if not username or password is None:
            return False
        if username == self.settings.mqtt_username:
            return is_hub_login(self.settings, username, password)
        if will_topic is not None and not may_publish(
            username,
            will_topic,
            root=self.settings.mqtt_root,
            hub_username=self.settings.mqtt_username,
        ):
            log.warning("refused %s: will on a topic it may not publish: %s", username, will_topic)
            return False
        if self.cache.verify(username, password):
            return True
        try:
            reloaded = await self.cache.refresh_if_stale(self.db, self.recheck_interval_s)
        except Exception:  # a database hiccup must refuse one login, not kill the broker
            log.exception("credential refresh failed; refusing %s", username)
            return False
        return reloaded and self.cache.verify(username, password)

    def allows(self, username: str | None, topic: str, action: Action) -> bool:
        """Whether ``username`` may PUBLISH to, SUBSCRIBE to or RECEIVE ``topic``.

        A device whose credentials were revoked since it connected is treated as nobody:
        its publishes are dropped and nothing more is delivered to it.
        """
        if not username:
            return False
        root, hub = self.settings.mqtt_root, self.settings.mqtt_username
        if username != hub and not self.cache.is_known(username):
            return False
        if action == Action.PUBLISH:
            return may_publish(username, topic, root=root, hub_username=hub)
        if action == Action.SUBSCRIBE:
            return may_subscribe(username, topic, root=root, hub_username=hub)
        if action == Action.RECEIVE:
            return may_receive(username, topic, root=root, hub_username=hub)
        return False


class DeviceAuthPlugin(BaseAuthPlugin):  # type: ignore[misc]
    """amqtt authentication through the :class:`Gatekeeper`."""

    @dataclass
    class Config:
        """Plugin settings: the gatekeeper object, passed as is through amqtt's config."""

        gatekeeper: Any = None

    async def authenticate(self, *, session: Any) -> bool:
        """Accept the session only if the gatekeeper knows its username and password."""
        gatekeeper: Gatekeeper = self.config.gatekeeper
        will_topic = session.will_topic if session.will_flag else None
        accepted = await gatekeeper.authenticate(session.username, session.password, will_topic)
        if not accepted:
            metrics.REJECTED.labels(Reason.WRONG_CREDENTIALS.value).inc()
        return bool(accepted)


class DeviceTopicPlugin(BaseTopicPlugin):  # type: ignore[misc]
    """amqtt topic access control through the :class:`Gatekeeper`."""

    @dataclass
    class Config:
        """Plugin settings: the gatekeeper object, passed as is through amqtt's config."""

        gatekeeper: Any = None

    async def topic_filtering(
        self, *, session: Any = None, topic: str | None = None, action: Action | None = None
    ) -> bool:
        """Allow only what :mod:`beffroi.devices.acl` allows."""
        if session is None or topic is None or action is None:
            return False
        gatekeeper: Gatekeeper = self.config.gatekeeper
        return gatekeeper.allows(session.username, topic, action)


def _quiet_amqtt() -> None:
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:  # leave a level someone set on purpose alone
            logger.setLevel(logging.WARNING)


class EmbeddedBroker:
    """An amqtt broker checking devices against Beffroi's database.

    Listens on ``settings.broker_host:settings.broker_port`` (port 0: a free port, read
    back from :attr:`port` after :meth:`start`). Use ``async with EmbeddedBroker(...)``
    or call :meth:`start` and :meth:`stop`.

    Credentials are reloaded every ``refresh_interval_s`` when they changed, and on a failed
    login at most every ``recheck_interval_s``; :attr:`cache` also answers which devices a
    gateway may relay for (``cache.is_child``) to an ingest running in the same process.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        refresh_interval_s: float = REFRESH_INTERVAL_S,
        recheck_interval_s: float = RECHECK_INTERVAL_S,
    ) -> None:
        self.settings = settings
        self.db = db
        self.cache = CredentialCache()
        self.host = settings.broker_host
        self.port: int | None = None
        self._refresh_interval_s = refresh_interval_s
        self._recheck_interval_s = recheck_interval_s
        self._broker: Any = None
        self._refresher: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """``mqtt://host:port`` of the running broker (the form of ``BEFFROI_MQTT_URL``)."""
        if self.port is None:
            raise RuntimeError("the embedded broker is not started")
        return f"mqtt://{self.host}:{self.port}"

    def _config(self) -> dict[str, Any]:
        gatekeeper = Gatekeeper(self.settings, self.db, self.cache, self._recheck_interval_s)
        return {
            "listeners": {
                "default": {"type": "tcp", "bind": f"{self.host}:{self.settings.broker_port}"}
            },
            # Giving `plugins` replaces amqtt's defaults, anonymous access among them.
            "plugins": {
                f"{__name__}.DeviceAuthPlugin": {"gatekeeper": gatekeeper},
                f"{__name__}.DeviceTopicPlugin": {"gatekeeper": gatekeeper},
            },
        }

    async def start(self) -> None:
        """Load the credentials, then listen. Raises if the port cannot be bound."""
        if self._broker is not None:
            raise RuntimeError("the embedded broker is already started")
        _quiet_amqtt()
        await self.cache.refresh(self.db, force=True)
        broker = FixedBroker(self._config())
        await broker.start()
        self._broker = broker
        # amqtt keeps its asyncio servers by listener name; the socket tells the real port.
        server = broker._servers["default"].instance
        self.port = int(server.sockets[0].getsockname()[1])
        self._refresher = asyncio.create_task(self._refresh_forever(), name="broker-credentials")
        log.info("embedded MQTT broker listening on %s", self.url)

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_interval_s)
            try:
                await self.cache.refresh(self.db)
            except Exception:  # keep serving with the last good credentials
                log.exception("refreshing device credentials failed")

    async def refresh(self) -> bool:
        """Reload credentials now if they changed (after issuing or revoking in-process)."""
        return await self.cache.refresh(self.db)

    async def stop(self) -> None:
        """Disconnect every client and stop listening; no task is left running."""
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
            self._refresher = None
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.shutdown()
        self.port = None

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
