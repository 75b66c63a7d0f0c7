"""The gateway's MQTT subscription: a paho client in its own thread, acknowledging each
QoS 1 message only when the pipeline says it is stored.

Why paho in a thread: it offers manual acknowledgement (aiomqtt does not), and its
network loop keeps reading while the event loop writes batches. Memory is bounded by a
semaphore: when ``capacity`` messages are in the pipeline, the paho thread waits before
taking another, the socket stops being read, and the broker holds the rest.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
import structlog
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from beffroi.config import BrokerUrl
from beffroi.core.time import utcnow

log = structlog.get_logger(__name__)

SESSION_EXPIRY_S = 24 * 3600


def no_delay(_client: mqtt.Client, _userdata: Any, sock: Any) -> None:
    """Send small packets (an acknowledgement, a command) at once: without TCP_NODELAY,
    Nagle's algorithm and delayed ACKs add tens of milliseconds to every round trip."""
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


@dataclass(slots=True)
class Inbound:
    """One message as received, with what it takes to acknowledge it."""

    topic: str
    payload: bytes
    received_at: datetime
    mid: int
    qos: int
    generation: int


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where the broker is and who the hub is on it."""

    host: str
    port: int
    username: str
    password: str
    client_id: str
    version: int = 5  # MQTT 5 lets the hub ask for a large receive window
    # Acknowledge QoS 1 messages only once stored. The embedded broker (amqtt) waits 5 s at
    # most for an acknowledgement and never redelivers: there, holding it only loses data.
    ack_after_store: bool = True

    @classmethod
    def from_url(
        cls,
        url: BrokerUrl,
        username: str,
        password: str,
        client_id: str,
        version: int = 5,
        *,
        ack_after_store: bool = True,
    ) -> BrokerAddress:
        """The hub as ``username`` on the broker at ``url``."""
        return cls(url.host, url.port, username, password, client_id, version, ack_after_store)


class Budget:
    """How much the pipeline holds, in messages and payload bytes, shared between the
    network thread (which waits for room) and the event loop (which frees it).

    Bounded by bytes as well as messages: a field gateway's bulk message holds up to a
    thousand children's readings, so a count of messages alone does not bound memory."""

    def __init__(self, messages: int, size: int) -> None:
        self.max_messages = messages
        self.max_bytes = size
        self.messages = 0
        self.bytes = 0
        self._room = threading.Condition()

    def take(self, size: int, timeout: float) -> bool:
        """Hold one message of ``size`` bytes once there is room (a message larger than
        the whole budget when nothing else is held); False after ``timeout`` seconds."""
        with self._room:
            return self._room.wait_for(lambda: self._fits(size), timeout) and self._hold(size)

    def _fits(self, size: int) -> bool:
        if self.messages >= self.max_messages:
            return False
        return self.messages == 0 or self.bytes + size <= self.max_bytes

    def _hold(self, size: int) -> bool:
        self.messages += 1
        self.bytes += size
        return True

    def release(self, messages: int, size: int) -> None:
        """Free what stored messages held. Freeing more than is held (a redelivered
        duplicate of a stopping run) leaves nothing held, never less."""
        with self._room:
            self.messages = max(0, self.messages - messages)
            self.bytes = max(0, self.bytes - size)
            self._room.notify_all()

    def wake(self) -> None:
        """Wake a waiting thread, so that it sees the source stopping."""
        with self._room:
            self._room.notify_all()


class MqttSource:
    """Subscribes the hub to device topics and hands messages to the event loop."""

    def __init__(
        self,
        address: BrokerAddress,
        filters: Sequence[str],
        loop: asyncio.AbstractEventLoop,
        deliver: Callable[[Sequence[Inbound]], None],
        *,
        capacity: int = 20_000,
        capacity_bytes: int = 32 << 20,
    ) -> None:
        self.address = address
        self.filters = list(filters)
        self._loop = loop
        self._deliver = deliver
        self._held = Budget(capacity, capacity_bytes)
        # Messages cross from the network thread in bursts: one loop wake-up per burst.
        self._inbox: deque[tuple[str, bytes, int, int, int]] = deque()
        self._wake_pending = False
        self._stopping = threading.Event()
        self.generation = 0
        # Set once connected and subscribed, cleared when the connection is lost.
        self.connected = threading.Event()
        protocol = mqtt.MQTTv5 if address.version == 5 else mqtt.MQTTv311
        kwargs: dict[str, Any] = {}
        if protocol == mqtt.MQTTv311:
            # A persistent session: what was not acknowledged is redelivered after a crash.
            kwargs["clean_session"] = False
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=address.client_id,
            protocol=protocol,
            manual_ack=address.ack_after_store,
            **kwargs,
        )
        self.client.username_pw_set(address.username, address.password)
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        # Unacknowledged messages may stay in flight for a whole batch and its write.
        self.client.max_inflight_messages_set(65535)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_socket_open = no_delay

    def start(self) -> None:
        """Connect (asynchronously) and start the network thread."""
        props = None
        if self.address.version == 5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = SESSION_EXPIRY_S
            props.ReceiveMaximum = 65535
        self.client.connect_async(
            self.address.host,
            self.address.port,
            keepalive=30,
            clean_start=False if self.address.version == 5 else mqtt.MQTT_CLEAN_START_FIRST_ONLY,
            properties=props,
        )
        self.client.loop_start()

    def pause(self) -> None:
        """Take no more messages: those arriving now are left unacknowledged, so the broker
        redelivers them to the next session."""
        self._stopping.set()

    def stop(self) -> None:
        """Disconnect and join the network thread; unacknowledged messages are redelivered
        to the next session."""
        self.pause()
        self._held.wake()  # a paho thread waiting for room must see it is to stop
        self.client.disconnect()
        self.client.loop_stop()

    def ack(self, items: Sequence[Inbound]) -> None:
        """Acknowledge stored messages and free their slots.

        A message received on an earlier connection is not acknowledged: its packet id
        may now belong to another message, and the broker redelivers it anyway.
        """
        for item in items:
            manual = self.address.ack_after_store
            if manual and item.qos > 0 and item.generation == self.generation:
                self.client.ack(item.mid, item.qos)
        self._held.release(len(items), sum(len(i.payload) for i in items))

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker refused the gateway", reason=str(reason))
            return
        self.generation += 1
        log.info(
            "gateway connected to the broker",
            host=self.address.host,
            port=self.address.port,
            session_present=bool(getattr(flags, "session_present", False)),
        )
        # Without acknowledgements after storage there is nothing to gain from QoS 1 (see
        # BrokerAddress.ack_after_store), and the embedded broker then waits for nothing.
        qos = 1 if self.address.ack_after_store else 0
        client.subscribe([(f, qos) for f in self.filters])

    def _on_subscribe(self, *_args: Any) -> None:
        # Connected means subscribed: a message published before the broker took the
        # subscription would go to nobody.
        self.connected.set()

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        self.connected.clear()
        if not self._stopping.is_set():
            log.warning("gateway lost the broker; reconnecting", reason=str(reason))

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        payload = bytes(msg.payload)
        # Blocks the network thread when the pipeline is full: backpressure to the broker.
        while not self._held.take(len(payload), timeout=1.0):
            if self._stopping.is_set():
                return
        if self._stopping.is_set():
            return
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            # Brokers should refuse such topics; if one slips through it is rejected, not fatal.
            topic = repr(msg._topic)
        self._inbox.append((topic, payload, msg.mid, msg.qos, self.generation))
        if not self._wake_pending:
            self._wake_pending = True
            self._loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        # Reset the flag before draining: a message appended after it schedules a new flush.
        self._wake_pending = False
        # One reception time per burst: the messages of a burst arrived within milliseconds.
        received_at = utcnow()
        items = []
        while self._inbox:
            topic, payload, mid, qos, generation = self._inbox.popleft()
            items.append(Inbound(topic, payload, received_at, mid, qos, generation))
        if items:
            self._deliver(items)
