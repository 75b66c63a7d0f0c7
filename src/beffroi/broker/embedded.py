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
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin

from beffroi import metrics
from beffroi.broker.amqtt_fixes import FixedBroker
from beffroi.config import BrokerUrl, Settings
from beffroi.core.tasks import every
from beffroi.db import Database
from beffroi.devices import changes
from beffroi.devices.acl import may_publish, may_receive, may_subscribe
from beffroi.devices.cache import Change, ChangeKind, CredentialCache
from beffroi.devices.following import Follower
from beffroi.devices.logins import FLUSH_S, LoginFailureLog, Refusal, Source
from beffroi.devices.secrets import is_hub_login
from beffroi.telemetry.decode import Reason

log = logging.getLogger(__name__)

# A refused login makes the broker look for credential changes at once, at most this
# often: a device issued or rotated a moment ago gets in without waiting for the next poll,
# and a flood of bad logins cannot hammer the database.
RECHECK_INTERVAL_S = 0.05
# amqtt (and the state machine library it uses) log every connection and packet at INFO.
NOISY_LOGGERS = ("amqtt", "transitions")


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a CONNECT is accepted, and why not."""

    accepted: bool
    refusal: Refusal | None = None


ACCEPTED = Verdict(accepted=True)


class Gatekeeper:
    """Who may connect and which topics they may use: what both plugins ask."""

    def __init__(
        self,
        settings: Settings,
        follower: Follower,
        failures: LoginFailureLog,
        recheck_interval_s: float = RECHECK_INTERVAL_S,
    ) -> None:
        self.settings = settings
        self.follower = follower
        self.cache = follower.cache
        self.failures = failures
        self.recheck_interval_s = recheck_interval_s

    async def authenticate(
        self,
        username: str | None,
        password: str | None,
        client_id: str | None = None,
        will_topic: str | None = None,
    ) -> Verdict:
        """The hub's account, or a device with its active secret. Nobody anonymous.

        A device's client id must be its username: otherwise one device could take over
        another's session (its will says the victim went offline, and with a persistent
        session it would receive the victim's queued commands). A device's will must be a
        topic it may publish on: amqtt sends wills without any topic check.
        """
        if not username:
            return Verdict(False, Refusal.NO_USERNAME)
        password = password or ""
        if username == self.settings.mqtt_username:
            ok = is_hub_login(self.settings, username, password)
            return ACCEPTED if ok else Verdict(False, Refusal.HUB_PASSWORD)
        if client_id != username:
            return Verdict(False, Refusal.CLIENT_ID)
        if will_topic is not None and not may_publish(
            username,
            will_topic,
            root=self.settings.mqtt_root,
            hub_username=self.settings.mqtt_username,
        ):
            return Verdict(False, Refusal.WILL_TOPIC)
        if self.cache.verify(username, password):
            return ACCEPTED
        if time.monotonic() - self.follower.synced_at >= self.recheck_interval_s:
            try:
                await self.follower.sync()
            except Exception:  # a database hiccup must refuse one login, not kill the broker
                log.exception("credential refresh failed; refusing %s", username)
            if self.cache.verify(username, password):
                return ACCEPTED
        known = self.cache.is_known(username)
        return Verdict(False, Refusal.WRONG_SECRET if known else Refusal.NOT_ACTIVE)

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
        verdict = await gatekeeper.authenticate(
            session.username, session.password, session.client_id, will_topic
        )
        if verdict.refusal is not None:
            metrics.REJECTED.labels(Reason.WRONG_CREDENTIALS.value).inc()
            gatekeeper.failures.note(
                session.username,
                verdict.refusal,
                Source.MQTT,
                client_id=session.client_id,
                peer=getattr(session, "remote_address", None),
            )
            log.info(
                "refused a CONNECT from %r (client id %r): %s",
                session.username,
                session.client_id,
                verdict.refusal.value,
            )
        return verdict.accepted


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

    Credential changes are applied within ``poll_s`` (see
    :class:`beffroi.devices.following.Follower`): a revoked or rotated device's session
    ends at once, and its publishes stop counting. Refused logins are written to the
    database every few seconds (:mod:`beffroi.devices.logins`).
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        poll_s: float | None = None,
        recheck_interval_s: float = RECHECK_INTERVAL_S,
    ) -> None:
        self.settings = settings
        self.db = db
        self.host = settings.broker_host
        self.port: int | None = None
        self.failures = LoginFailureLog()
        self.follower = Follower(
            db,
            "embedded broker",  # named after its port once listening
            self._end_sessions,
            poll_s=poll_s or changes.POLL_S,
        )
        self.cache: CredentialCache = self.follower.cache
        self._recheck_interval_s = recheck_interval_s
        self._broker: FixedBroker | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def url(self) -> BrokerUrl:
        """Where the running broker listens (``mqtt://host:port``)."""
        if self.port is None:
            raise RuntimeError("the embedded broker is not started")
        return BrokerUrl(self.host, self.port)

    def _config(self) -> dict[str, Any]:
        gatekeeper = Gatekeeper(
            self.settings, self.follower, self.failures, self._recheck_interval_s
        )
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
        await self.follower.start()
        broker = FixedBroker(self._config())
        await broker.start()
        self._broker = broker
        # amqtt keeps its asyncio servers by listener name; the socket tells the real port.
        server = broker._servers["default"].instance
        self.port = int(server.sockets[0].getsockname()[1])
        self.follower.name = f"embedded broker {self.host}:{self.port}"
        await self.follower.announce()
        self._stop.clear()
        self._tasks = [
            asyncio.create_task(self.follower.run(self._stop), name="broker-credentials"),
            asyncio.create_task(self._write_failures(), name="broker-login-failures"),
        ]
        log.info("embedded MQTT broker listening on %s", self.url)

    async def _end_sessions(self, found: list[Change]) -> None:
        """A device whose secret was revoked or rotated loses the session it opened with
        the old one (its will is published: the hub sees it offline)."""
        if self._broker is None:
            return
        for change in found:
            if change.kind in (ChangeKind.REVOKED, ChangeKind.ROTATED):
                await self._broker.evict(change.asset_id)

    async def _write_failures(self) -> None:
        # Every FLUSH_S, and once more when stopping: refusals of the last moments too.
        await every(FLUSH_S, self._flush_failures, self._stop)
        await self._flush_failures()

    async def _flush_failures(self) -> None:
        try:
            await self.failures.flush(self.db)
        except Exception:  # kept for the next flush
            log.exception("writing refused logins failed")

    async def refresh(self) -> list[Change]:
        """Apply credential changes now (rather than at the next poll)."""
        return await self.follower.sync()

    async def stop(self) -> None:
        """Disconnect every client and stop listening; no task is left running."""
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
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
