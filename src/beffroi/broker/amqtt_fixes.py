"""Fixes to amqtt 0.12's broker, so the embedded broker holds a city's fleet safely.

amqtt routes each message by testing every subscription filter of every client, and on
every client connection it walks every filter of every client against every retained
message, sending the matches to the newcomer without any access check. With 2,000
devices and 36,000 retained statuses that is minutes of CPU at start-up, and each device
would receive every other device's status. Measured and explained in the closing notes of
the device-gateway issue; amqtt is pinned to 0.12.x because these lean on its internals.

1. Routing consults an index of filters by their literal prefix (the levels before the
   first wildcard): a message is tested against the few filters that can match it.
2. Retained messages are indexed by topic prefix, and on connection only the session's
   own subscriptions are served — which also closes the access leak.
3. Iterations over subscriptions are snapshots: amqtt awaits inside them, and a client
   subscribing meanwhile would break them ("dictionary changed size during iteration").
4. A CONNECT is authenticated before it may touch any session. amqtt first deletes the
   session of the client id (clean session) or adopts it (persistent session), and takes
   over a connected client of that id even when the newcomer is then refused: anyone
   could disconnect any device, publish its will and empty its queue by knowing its id.
5. :meth:`FixedBroker.evict` ends a client's connection and deletes its session (a device
   whose credentials were revoked or rotated).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

from amqtt.adapters import ReaderAdapter, WriterAdapter
from amqtt.broker import Broker
from amqtt.errors import AMQTTError, MQTTError, NoDataError
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.utils import gen_client_id

# Set on a session once its CONNECT was judged, so amqtt's own check does not run twice.
_VERDICT = "_beffroi_authenticated"
# What a reconnecting client brings to the session it resumes.
_RENEWED = (
    "will_flag",
    "will_message",
    "will_topic",
    "will_qos",
    "will_retain",
    "keep_alive",
    "username",
    "password",
)


def _levels_before_wildcard(topic_filter: str) -> str:
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if level in ("+", "#"):
            return "/".join(levels[:index])
    return topic_filter


def _prefixes(topic: str) -> Iterator[str]:
    levels = topic.split("/")
    for count in range(len(levels) + 1):
        yield "/".join(levels[:count])


class SubscriptionIndex(dict[str, Any]):
    """amqtt's subscriptions (filter -> [(session, qos)]), indexed by literal prefix.

    While a broadcast is being routed (``routing_topic`` set by :class:`RoutingQueue`),
    ``items()`` offers only the filters that can match its topic.
    """

    def __init__(self) -> None:
        super().__init__()
        self._by_prefix: dict[str, set[str]] = {}
        self.routing_topic: str | None = None

    def __setitem__(self, topic_filter: str, value: Any) -> None:
        if topic_filter not in self:
            self._by_prefix.setdefault(_levels_before_wildcard(topic_filter), set()).add(
                topic_filter
            )
        super().__setitem__(topic_filter, value)

    def __delitem__(self, topic_filter: str) -> None:
        super().__delitem__(topic_filter)
        self._forget(topic_filter)

    def pop(self, topic_filter: str, *default: Any) -> Any:
        """Remove a filter."""
        existed = topic_filter in self
        value = super().pop(topic_filter, *default)
        if existed:
            self._forget(topic_filter)
        return value

    def clear(self) -> None:
        """Remove every filter."""
        super().clear()
        self._by_prefix.clear()

    def _forget(self, topic_filter: str) -> None:
        prefix = _levels_before_wildcard(topic_filter)
        bucket = self._by_prefix.get(prefix)
        if bucket is not None:
            bucket.discard(topic_filter)
            if not bucket:
                del self._by_prefix[prefix]

    def candidates(self, topic: str) -> list[str]:
        """Filters whose literal prefix is a prefix of ``topic`` (the only possible matches)."""
        found: list[str] = []
        for prefix in _prefixes(topic):
            found.extend(self._by_prefix.get(prefix, ()))
        return found

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        """A snapshot; while routing a message, of the filters that can match it."""
        topic, self.routing_topic = self.routing_topic, None
        if topic is None:
            return list(super().items())
        return [(f, self[f]) for f in self.candidates(topic) if f in self]

    def __iter__(self) -> Iterator[str]:
        return iter(list(super().keys()))


class RetainedIndex(dict[str, Any]):
    """amqtt's retained messages (topic -> message), indexed by every topic prefix."""

    def __init__(self) -> None:
        super().__init__()
        self._by_prefix: dict[str, set[str]] = {}

    def __setitem__(self, topic: str, message: Any) -> None:
        if topic not in self:
            for prefix in _prefixes(topic):
                self._by_prefix.setdefault(prefix, set()).add(topic)
        super().__setitem__(topic, message)

    def __delitem__(self, topic: str) -> None:
        super().__delitem__(topic)
        for prefix in _prefixes(topic):
            bucket = self._by_prefix.get(prefix)
            if bucket is not None:
                bucket.discard(topic)
                if not bucket:
                    del self._by_prefix[prefix]

    def clear(self) -> None:
        """Remove every retained message."""
        super().clear()
        self._by_prefix.clear()

    def matching(self, topic_filter: str, matches: Callable[[str, str], bool]) -> list[Any]:
        """Retained messages whose topic matches ``topic_filter``."""
        topics = self._by_prefix.get(_levels_before_wildcard(topic_filter), ())
        return [self[t] for t in list(topics) if matches(t, topic_filter)]

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        """A snapshot."""
        return list(super().items())


class RoutingQueue(asyncio.Queue[dict[str, Any]]):
    """amqtt's broadcast queue: tells the subscription index which topic is being routed."""

    def __init__(self, index: SubscriptionIndex) -> None:
        super().__init__()
        self._index = index

    async def get(self) -> dict[str, Any]:
        """The next broadcast; amqtt routes it at once (no await before iterating)."""
        broadcast = await super().get()
        self._index.routing_topic = broadcast["topic"]
        return broadcast


class FixedBroker(Broker):  # type: ignore[misc]
    """amqtt's broker with the fixes above."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._subscriptions = SubscriptionIndex()
        self._retained_messages = RetainedIndex()
        self._broadcast_queue = RoutingQueue(self._subscriptions)

    async def _publish_retained_messages_for_subscription(
        self, subscription: tuple[str, int], session: Any
    ) -> None:
        topic_filter, qos = subscription
        # amqtt calls this for every filter of every client when one connects: serve only
        # the session's own subscriptions (it was granted them; the others are not its own).
        subscribers = dict.get(self._subscriptions, topic_filter, ())
        if not any(s.client_id == session.client_id for s, _qos in subscribers):
            return
        handler = self._get_handler(session)
        if handler is None:
            return
        tasks = [
            asyncio.ensure_future(
                handler.mqtt_publish(
                    retained.topic, retained.data, min(qos, retained.qos or qos), retain=True
                )
            )
            for retained in self._retained_messages.matching(topic_filter, self._matches)
        ]
        if tasks:
            await asyncio.wait(tasks)

    async def _initialize_client_session(
        self, reader: ReaderAdapter, writer: WriterAdapter, remote_address: str, remote_port: int
    ) -> tuple[BrokerProtocolHandler, Any]:
        """Read the CONNECT and judge it before looking at any existing session."""
        try:
            handler, session = await BrokerProtocolHandler.init_from_connect(
                reader, writer, self.plugins_manager
            )
        except MQTTError:
            await writer.close()
            raise
        except (AMQTTError, NoDataError) as exc:
            raise AMQTTError(
                f"no valid CONNECT from {remote_address}:{remote_port}: {exc}"
            ) from exc
        accepted = await self._judge(session)
        if not accepted:
            if not session.client_id:
                session.client_id = gen_client_id()
            setattr(session, _VERDICT, False)
            return handler, session
        if session.clean_session:
            if session.client_id:
                await self._delete_session(session.client_id)
            else:
                session.client_id = gen_client_id()
            session.parent = 0
        elif session.client_id in self._sessions:
            existing, _handler = self._sessions[session.client_id]
            for name in _RENEWED:
                setattr(existing, name, getattr(session, name))
            session = existing
            session.parent = 1
        else:
            session.parent = 0
        delay = self.config.get("timeout-disconnect-delay", 0)
        if session.keep_alive > 0 and isinstance(delay, int):
            session.keep_alive += delay
        setattr(session, _VERDICT, True)
        return handler, session

    async def _judge(self, session: Any) -> bool:
        return bool(await Broker._authenticate(self, session, None))

    async def _authenticate(self, session: Any, listener: Any) -> bool:
        """The verdict given when the CONNECT was read."""
        verdict = getattr(session, _VERDICT, None)
        if verdict is None:
            return await self._judge(session)
        return bool(verdict)

    async def _handle_client_session(
        self,
        reader: ReaderAdapter,
        writer: WriterAdapter,
        client_session: Any,
        handler: BrokerProtocolHandler,
        server: Any,
        listener_name: str,
    ) -> None:
        """A refused client gets its CONNACK and is closed: no session is touched."""
        if getattr(client_session, _VERDICT, None) is False:
            handler.attach(client_session, reader, writer)
            await handler.mqtt_connack_authorize(False)
            await writer.close()
            return
        await super()._handle_client_session(
            reader, writer, client_session, handler, server, listener_name
        )

    async def evict(self, client_id: str) -> bool:
        """End ``client_id``'s connection (its will is published, as when a connection is
        lost) and delete its session: subscriptions and queued messages. Returns whether
        there was a session."""
        entry = self._sessions.get(client_id)
        if entry is None:
            return False
        session, handler = entry
        if session.transitions.is_connected() and handler is not None:
            await handler.handle_connection_closed()
        await self._delete_session(client_id)
        return True
