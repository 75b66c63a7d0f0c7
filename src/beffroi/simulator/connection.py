"""Thousands of MQTT connections in one asyncio process: a :class:`Pool` of paho clients.

Each connection is a paho client whose socket is watched by the event loop; one task
looks after all the keep-alives. No task, thread or future per client or per publish:
measured here with 2,200 connections to Mosquitto, that took 11 MB and 16.7k QoS 1
publishes per CPU-second, where aiomqtt (a task per client, a future per publish) took
29 MB and 6.7k.

paho is given no write-registration callbacks, so it writes each packet at once; the
loop watches a socket for writing only while data is left over (a full socket buffer,
or packets queued from inside a callback). That halves the system calls per publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from beffroi.config import BrokerUrl
from beffroi.simulator.noise import draw

KEEPALIVE_S: Final = 60
KEEPALIVE_SWEEP_S: Final = 10  # each connection's keep-alive is looked after this often
SOCKET_CONNECT_TIMEOUT_S: Final = 5.0
CONNACK_TIMEOUT_S: Final = 15.0
CONNECT_WINDOW: Final = 64  # CONNECTs awaiting their CONNACK at once: spare the broker
INFLIGHT: Final = 100  # QoS 1 publishes in flight per connection (a cabinet relays ~25 lights)
RETRY_MAX_S: Final = 60.0
POLL_S: Final = 0.2  # waits re-check their stop event at least this often
WILL: Final = orjson.dumps({"online": False})


def raise_open_files_limit(needed: int) -> int:
    """Raise this process's open-file limit towards ``needed`` (one socket per device);
    returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


@dataclass(slots=True)
class MqttStats:
    """Counters of the connections."""

    messages_sent: int = 0  # handed to a connection
    messages_published: int = 0  # acknowledged by the broker (QoS 1) or written (QoS 0)
    messages_dropped: int = 0  # their connection was down
    connections: int = 0  # open now
    connects: int = 0  # successful CONNACKs so far (reconnections included)
    connect_failures: int = 0  # TCP could not connect, or no CONNACK in time
    refused: int = 0  # the broker refused the CONNECT (credentials, ACL)
    last_refusal: str = ""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a connection is: its client id and username, secret, will and subscriptions."""

    name: str
    password: str | None
    status_topic: str
    command_filters: tuple[str, ...]


class Connection:
    """One MQTT session (a device, or a cabinet speaking for its lights as well)."""

    def __init__(self, pool: Pool, identity: Identity) -> None:
        self.pool = pool
        self.identity = identity
        self.connected = False
        self.connecting_since: float | None = None
        self.attempts = 0
        self.pending = 0
        self.retry: asyncio.TimerHandle | None = None
        self._started = False
        self._writing: Any = None  # the socket watched for writing, while data waits
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=identity.name,
            clean_session=True,
            protocol=MQTTProtocolVersion.MQTTv311,
        )
        client.username_pw_set(identity.name, identity.password)
        client.will_set(identity.status_topic, WILL, qos=1, retain=True)
        client.max_inflight_messages_set(INFLIGHT)
        client.connect_timeout = SOCKET_CONNECT_TIMEOUT_S
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        self.client = client

    # - the event loop drives the socket -

    def _on_socket_open(self, _client: mqtt.Client, _userdata: Any, sock: Any) -> None:
        self.pool.loop.add_reader(sock, self._readable)

    def _on_socket_close(self, _client: mqtt.Client, _userdata: Any, sock: Any) -> None:
        self.pool.loop.remove_reader(sock)
        if self._writing is sock:
            self.pool.loop.remove_writer(sock)
            self._writing = None
        self.pool.moved.set()

    def _readable(self) -> None:
        self.client.loop_read()
        self.flush_later()

    def _writable(self) -> None:
        self.client.loop_write()
        if not self.client.want_write() and self._writing is not None:
            self.pool.loop.remove_writer(self._writing)
            self._writing = None

    def flush_later(self) -> None:
        """Have the loop finish writing what paho could not send at once."""
        if self._writing is None and self.client.want_write():
            sock = self.client.socket()
            if sock is not None:
                self.pool.loop.add_writer(sock, self._writable)
                self._writing = sock

    # - session -

    def start(self, *, first: bool = False) -> None:
        """Open the TCP connection and send CONNECT (the CONNACK comes later).

        The very first connection of a run raises :class:`ConnectionError` when the
        broker cannot be reached, so a wrong address fails at once with a clear message.
        """
        self.retry = None
        pool = self.pool
        if pool.stopping:
            return
        try:
            if self._started:
                self.client.reconnect()
            else:
                self._started = True
                self.client.connect(pool.host, pool.port, KEEPALIVE_S)
        except (OSError, ValueError) as exc:
            if first:
                where = f"{pool.host}:{pool.port}"
                raise ConnectionError(f"cannot reach the MQTT broker at {where}: {exc}") from exc
            pool.stats.connect_failures += 1
            self.schedule_retry()
            return
        self.connecting_since = pool.loop.time()
        pool.connecting += 1
        self.flush_later()

    def schedule_retry(self) -> None:
        """Try again later, backing off, with jitter so a whole fleet does not stampede."""
        # A timer on the event loop, not a retry library: those wait in a coroutine, one
        # per device here, and the jitter is drawn from the seed so that a run replays.
        if self.pool.stopping or self.retry is not None:
            return
        self.attempts += 1
        spread = 0.5 + draw(self.pool.seed, "retry", self.identity.name, self.attempts)
        delay = min(RETRY_MAX_S, 2.0 ** min(self.attempts, 6)) * spread
        self.retry = self.pool.loop.call_later(delay, self.start)

    def _connect_over(self) -> None:
        if self.connecting_since is not None:
            self.connecting_since = None
            self.pool.connecting -= 1
            self.pool.moved.set()

    def give_up_connecting(self) -> None:
        """No CONNACK in time: drop the attempt and retry later."""
        self._connect_over()
        self.pool.stats.connect_failures += 1
        self.client.disconnect()
        self.flush_later()
        self.schedule_retry()

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        self._connect_over()
        stats = self.pool.stats
        if reason.is_failure:
            stats.refused += 1
            stats.last_refusal = f"{self.identity.name}: {reason}"
            return  # the broker closes the connection; _on_disconnect retries
        self.connected = True
        self.attempts = 0
        stats.connections += 1
        stats.connects += 1
        client.subscribe([(f, 1) for f in self.identity.command_filters])
        self.pool.on_connected(self)

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, _reason: Any, _props: Any
    ) -> None:
        self._connect_over()
        if self.connected:
            self.connected = False
            self.pool.stats.connections -= 1
        # Whatever was in flight is resent by paho or lost with the session: stop waiting.
        self.pool.pending -= self.pending
        self.pending = 0
        self.pool.moved.set()
        self.schedule_retry()

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        """Publish if connected; otherwise the message is dropped (and counted)."""
        stats = self.pool.stats
        if not self.connected:
            stats.messages_dropped += 1
            return
        # Counted as pending first: at QoS 0 paho reports it published from inside publish().
        self.pending += 1
        self.pool.pending += 1
        info = self.client.publish(topic, payload, qos, retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            stats.messages_dropped += 1
            self._settled()
            return
        stats.messages_sent += 1
        self.flush_later()

    def _settled(self) -> None:
        if self.pending > 0:
            self.pending -= 1
            self.pool.pending -= 1
            self.pool.moved.set()

    def _on_publish(
        self, _client: mqtt.Client, _userdata: Any, _mid: int, _reason: Any, _props: Any
    ) -> None:
        self.pool.stats.messages_published += 1
        self._settled()

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.pool.on_message(self, message.topic, message.payload)


def _ignore_connected(connection: Connection) -> None:
    del connection


def _ignore_message(connection: Connection, topic: str, payload: bytes | bytearray) -> None:
    del connection, topic, payload


class Pool:
    """The connections of one simulator, and what they share: loop, broker, counters."""

    def __init__(self, broker: BrokerUrl, *, seed: int = 1) -> None:
        self.host, self.port = broker.host, broker.port
        self.seed = seed
        self.stats = MqttStats()
        self.connections: dict[str, Connection] = {}
        self.stopping = False
        self.connecting = 0  # CONNECTs awaiting their CONNACK
        self.pending = 0  # publishes not yet acknowledged
        self.moved = asyncio.Event()  # set when the counters move: waiters re-check
        self.on_connected: Callable[[Connection], None] = _ignore_connected
        self.on_message: Callable[[Connection, str, bytes | bytearray], None] = _ignore_message
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the pool runs on (set by :meth:`open`)."""
        if self._loop is None:
            raise RuntimeError("the connection pool is not open")
        return self._loop

    def add(self, identity: Identity) -> Connection:
        """A connection for ``identity`` (opened by :meth:`connect_all`)."""
        connection = self.connections[identity.name] = Connection(self, identity)
        return connection

    async def open(self) -> None:
        """Bind to the running loop, allow enough sockets, and look the broker up once
        (paho would resolve it synchronously, for each of thousands of connections)."""
        self._loop = asyncio.get_running_loop()
        self.stopping = False
        raise_open_files_limit(len(self.connections) + 256)
        try:
            infos = await self.loop.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise ConnectionError(f"cannot resolve the MQTT broker {self.host!r}: {exc}") from exc
        self.host = str(infos[0][4][0])

    async def until(
        self, done: Callable[[], bool], stop: asyncio.Event | None, timeout_s: float | None = None
    ) -> bool:
        """Wait until ``done()`` holds (re-checked whenever the counters move), ``stop`` is
        set or the time is up; returns ``done()``."""
        deadline = None if timeout_s is None else self.loop.time() + timeout_s
        while not done() and (stop is None or not stop.is_set()):
            left = POLL_S if deadline is None else min(deadline - self.loop.time(), POLL_S)
            if left <= 0:
                break
            self.moved.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.moved.wait(), left)
        return done()

    async def connect_all(self, stop: asyncio.Event) -> None:
        """Connect everyone, a window of CONNECTs at a time; returns when each has had its
        first answer (or ``stop`` is set). Failed ones keep retrying on their own."""
        for index, connection in enumerate(self.connections.values()):
            await self.until(lambda: self.connecting < CONNECT_WINDOW, stop)
            if stop.is_set():
                return
            connection.start(first=index == 0)
        await self.until(lambda: self.connecting == 0, stop)

    async def keep_alive(self) -> None:
        """Ping for every connection and time out stuck CONNECTs, until cancelled.

        A tenth of the connections is visited each second: each is seen every ten
        seconds, often enough for a 60 s keep-alive, at a tenth of the cost.
        """
        connections = list(self.connections.values())
        share = max(1, -(-len(connections) // KEEPALIVE_SWEEP_S))
        position = 0
        while True:
            await asyncio.sleep(1.0)
            now = self.loop.time()
            for connection in connections[position : position + share]:
                if connection.client.socket() is not None:
                    connection.client.loop_misc()
                    connection.flush_later()
                since = connection.connecting_since
                if since is not None and now - since > CONNACK_TIMEOUT_S:
                    connection.give_up_connecting()
            position = position + share if position + share < len(connections) else 0

    async def close(self, goodbye: Callable[[Connection], None], timeout_s: float) -> None:
        """Let each open connection say ``goodbye``, wait for the broker to take it, then
        DISCONNECT everyone and wait for the sockets to close."""
        self.stopping = True
        for connection in self.connections.values():
            if connection.retry is not None:
                connection.retry.cancel()
                connection.retry = None
            if connection.connected:
                goodbye(connection)
        await self.until(lambda: self.pending <= 0, None, timeout_s)
        connections = list(self.connections.values())
        for connection in connections:
            if connection.client.socket() is not None:
                connection.client.disconnect()
                connection.flush_later()
        await self.until(
            lambda: all(c.client.socket() is None for c in connections), None, timeout_s
        )
        for connection in connections:
            sock = connection.client.socket()
            if sock is not None:  # the broker did not let go in time: close our end
                self.loop.remove_reader(sock)
                self.loop.remove_writer(sock)
                sock.close()
