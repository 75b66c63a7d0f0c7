"""The simulated fleet on MQTT: each device on its own connection, in one process.

Each device connects as itself (username = its asset id, with its secret); a lighting
cabinet also speaks for its streetlights as their field gateway. The connections are a
:class:`~.connection.Pool`; this module decides what to send and when.

One scheduler walks a heap of "next report due" in simulated time. A device due several
times over (the loop ran late, or the speed is very high) sends its readings as one JSON
array, which the device API allows. When the broker falls behind, unacknowledged
publishes pile up; past a bound the scheduler waits, then catches up in batches.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Literal

import orjson

from beffroi.config import BrokerUrl
from beffroi.core.errors import FieldError, InvalidInput
from beffroi.devices import topics
from beffroi.devices.topics import Channel, Topic
from beffroi.simulator.assets import SimAsset
from beffroi.simulator.bulk import BULK_VERSION, Bundler, by_moment, split_command
from beffroi.simulator.clock import SimClock
from beffroi.simulator.connection import Connection, Identity, MqttStats, Pool
from beffroi.simulator.engine import CABINET, TRAFFIC_CONTROLLER_TYPE, Engine, Later, Message
from beffroi.simulator.state import Device

Timestamps = Literal["simulated", "wall"]

MAX_PENDING: Final = 20_000  # unacknowledged publishes before the scheduler waits
MAX_BATCH: Final = 60  # readings of one device in one message when catching up
SLICE: Final = 256  # reports handled before the scheduler lets the sockets work
HELLO_SLICE: Final = 32  # connections whose statuses go out before the loop breathes
MIN_SLEEP_S: Final = 0.005
MAX_SLEEP_S: Final = 0.2  # also how long a stop may wait to be noticed
GOODBYE_TIMEOUT_S: Final = 5.0


class Simulator:
    """The simulated fleet, connected to a broker as its devices.

    ``credentials`` maps asset ids to secrets; ``None`` is for brokers that let anyone in
    (each device still gives its id as username). ``timestamps="wall"`` stamps readings
    with the wall-clock moment they stand for, rather than the simulated time: a hub
    refuses timestamps more than a few minutes ahead, which simulated time at a speed
    above 1 soon is.
    """

    def __init__(
        self,
        assets: Sequence[SimAsset],
        credentials: Mapping[str, str] | None,
        broker: BrokerUrl,
        *,
        root: str = "beffroi/v1",
        speed: float = 1.0,
        seed: int = 1,
        start: datetime | None = None,
        qos: int = 1,
        fault_rate: float = 1.0,
        command_failure_rate: float = 0.02,
        latitude: float,
        longitude: float,
        timezone: str = "Europe/Paris",
        timestamps: Timestamps = "simulated",
        bulk: bool = True,
    ) -> None:
        errors: list[FieldError] = []
        if not speed > 0:
            errors.append(FieldError("speed", f"must be > 0, not {speed}"))
        if qos not in (0, 1):
            errors.append(FieldError("qos", f"telemetry QoS is 0 or 1, not {qos}"))
        if timestamps not in ("simulated", "wall"):
            errors.append(FieldError("timestamps", "simulated or wall"))
        if errors:
            raise InvalidInput(errors)
        self.pool = Pool(broker, seed=seed)
        self.root = root
        self.qos = qos
        # Cabinets speak for their lights in bulk (one message for many), unless told not to.
        self.bundler = Bundler(root, self._publish_raw) if bulk else None
        self.timestamps = timestamps
        self.clock = SimClock(speed=speed, start=start)
        self._follow_wall = start is None
        self.engine = Engine(
            assets,
            start=self.clock.start,
            latitude=latitude,
            longitude=longitude,
            timezone=timezone,
            seed=seed,
            fault_rate=fault_rate,
            command_failure_rate=command_failure_rate,
        )
        identities = self.engine.identities()
        if credentials is not None:
            missing = [d.id for d in identities if d.id not in credentials]
            if missing:
                shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
                raise InvalidInput(
                    FieldError("credentials", f"no secret for {len(missing)} devices: {shown}")
                )
        for device in identities:
            self.pool.add(
                Identity(
                    device.id,
                    None if credentials is None else credentials[device.id],
                    self.topic(device, Channel.STATUS),
                    self.command_filters(device),
                )
            )
        self.pool.on_connected = self._connected
        self.pool.on_message = self._command
        self._laters: set[asyncio.TimerHandle] = set()
        # While the fleet first connects, statuses wait: see _connected.
        self._held: list[Connection] | None = None

    # - figures -

    @property
    def stats(self) -> MqttStats:
        """Counters of the connections (the fleet's own are in ``engine.stats``)."""
        return self.pool.stats

    @property
    def messages_published(self) -> int:
        """Messages acknowledged by the broker (written, at QoS 0)."""
        return self.pool.stats.messages_published

    @property
    def commands_answered(self) -> int:
        """Commands that got their final reply."""
        return self.engine.stats.commands_answered

    @property
    def faults_raised(self) -> int:
        """Faults raised so far."""
        return self.engine.stats.faults_raised

    @property
    def pending(self) -> int:
        """Publishes the broker has not acknowledged yet."""
        return self.pool.pending

    # - topics and messages -

    def topic(self, device: Device, channel: Channel, command_id: str | None = None) -> str:
        """The topic ``device`` uses on ``channel`` (under its gateway when relayed)."""
        gateway = device.gateway
        return topics.build(
            Topic(channel, device.id, None if gateway is None else gateway.id, command_id),
            self.root,
        )

    def command_filters(self, identity: Device) -> tuple[str, ...]:
        """What a connection subscribes to: its own commands and its relayed children's
        (one by one, and in bulk), a lighting cabinet its schedule, a traffic controller
        its timetable."""
        filters = [topics.build(Topic(Channel.COMMAND, identity.id, None, "+"), self.root)]
        if identity.spec.key == CABINET:
            filters.append(topics.build(topics.schedule(identity.id), self.root))
        if identity.spec.key == TRAFFIC_CONTROLLER_TYPE:
            filters.append(topics.build(topics.timetable(identity.id), self.root))
        if any(child.relayed for child in identity.children):
            filters.append(topics.build(Topic(Channel.COMMAND, "+", identity.id, "+"), self.root))
            if self.bundler is not None:
                bulk = topics.bulk(Channel.COMMAND, identity.id, "+")
                filters.append(topics.build(bulk, self.root))
        return tuple(filters)

    def _stamp(self, moment: datetime) -> str:
        if self.timestamps == "wall":
            moment = self.clock.to_wall(moment)
        return moment.isoformat(timespec="milliseconds")

    def _payload(self, message: Message) -> dict[str, Any]:
        body = message.body
        if (
            self.bundler is not None
            and message.channel is Channel.STATUS
            and body.get("online")
            and any(child.relayed for child in message.device.children)
        ):
            body = {**body, "bulk": BULK_VERSION}  # a cabinet says it speaks in bulk
        if message.at is None:
            return body
        return {"ts": self._stamp(message.at), **body}

    def break_down(self, device_id: str, code: str, repair_hours: float = 1.0) -> None:
        """Make a device raise a fault now (see :meth:`Engine.break_down`)."""
        self.send(self.engine.break_down(device_id, code, self.clock.now(), repair_hours))

    def repair(self, device_id: str, code: str) -> None:
        """Clear a device's fault now (see :meth:`Engine.repair`)."""
        self.send(self.engine.repair(device_id, code, self.clock.now()))

    def send(self, messages: Sequence[Message], *, flush: bool = True) -> None:
        """Publish messages; several telemetry readings of one device go as one array, and
        what relayed lights say goes in their cabinet's bulk messages (sent at ``flush``)."""
        readings: dict[Device, list[Message]] = {}
        for message in messages:
            payload = self._payload(message)
            if self.bundler is not None and self.bundler.take(message, payload):
                continue
            if message.channel is Channel.TELEMETRY:
                readings.setdefault(message.device, []).append(message)
            else:
                self._publish(message, orjson.dumps(payload))
        for batch in readings.values():
            bodies = [self._payload(m) for m in batch]
            self._publish(batch[0], orjson.dumps(bodies if len(bodies) > 1 else bodies[0]))
        if flush and self.bundler is not None:
            self.bundler.flush()

    def _publish_raw(self, sender: str, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        connection = self.pool.connections.get(sender)
        if connection is None:
            self.pool.stats.messages_dropped += 1
            return
        connection.publish(topic, payload, qos, retain=retain)

    def _publish(self, message: Message, payload: bytes) -> None:
        connection = self.pool.connections.get(message.device.identity.id)
        if connection is None:
            self.pool.stats.messages_dropped += 1
            return
        channel = message.channel
        qos = self.qos if channel is Channel.TELEMETRY else 1
        topic = self.topic(message.device, channel, message.command_id)
        connection.publish(topic, payload, qos, retain=channel is Channel.STATUS)

    def _connected(self, connection: Connection) -> None:
        """A connection is up: it and its relayed lights say they are online.

        During the first connection storm the (retained) statuses are held until every
        device has subscribed: a broker that scans its retained messages on each
        SUBSCRIBE (amqtt does) would otherwise do work growing with the square of the
        fleet, stalling for minutes with 38,000 retained statuses.
        """
        if self._held is not None:
            self._held.append(connection)
            return
        self.send(self.engine.hello(self.engine.devices[connection.identity.name]))

    async def _release_held(self, stop: asyncio.Event) -> None:
        """Send the held statuses, a few connections at a time: the loop may be shared
        (the demo runs broker, gateway and API in it too)."""
        held, self._held = self._held or [], None
        for index, connection in enumerate(held, start=1):
            if connection.connected:
                self._connected(connection)
            if index % HELLO_SLICE == 0:
                await asyncio.sleep(0)
                await self.pool.until(lambda: self.pool.pending <= MAX_PENDING, stop)

    def _goodbye(self, connection: Connection) -> None:
        """A clean stop fires no will: say offline for the device and its lights."""
        self.send(self.engine.goodbye(self.engine.devices[connection.identity.name]))

    # - commands -

    def _command(self, connection: Connection, topic_name: str, payload: bytes | bytearray) -> None:
        """A message on a command (or schedule) topic: the engine answers, now and later."""
        topic = topics.parse(topic_name, self.root)
        if topic is not None and topic.channel in (Channel.SCHEDULE, Channel.TIMETABLE):
            # Its own document only: another device's is refused (no such device "").
            mine = topic.device_id if topic.device_id == connection.identity.name else ""
            at = self.clock.now()
            self.send(self.engine.take_document(topic.channel, mine, bytes(payload), at))
            return
        if topic is not None and topic.bulk and topic.channel is Channel.COMMAND:
            self._bulk_command(connection, topic, bytes(payload))
            return
        if (
            topic is None
            or topic.channel is not Channel.COMMAND
            or topic.command_id is None
            or topic.sender != connection.identity.name
        ):
            self.engine.stats.commands_ignored += 1
            return
        now, later = self.engine.command(
            topic.device_id,
            topic.gateway_id,
            topic.command_id,
            payload,
            self.clock.now(),
            wall_now=self.clock.wall_now(),
            to_sim=self.clock.to_sim,
        )
        self.send(now)
        for item in later:
            self._schedule_later(item)

    def _bulk_command(self, connection: Connection, topic: Topic, payload: bytes) -> None:
        """One command for many lights, obeyed at one moment: what they say later goes
        back in one bulk message per moment, not one per light."""
        commands, error = split_command(payload)
        gateway, message_id = topic.device_id, topic.command_id
        mine = gateway == connection.identity.name
        if error is not None or message_id is None or self.bundler is None or not mine:
            self.engine.stats.commands_ignored += 1
            return
        now: list[Message] = []
        later: list[Later] = []
        moment, wall_now = self.clock.now(), self.clock.wall_now()
        for command in commands:
            self.bundler.remember(gateway, message_id, command.command_id)
            replies, laters = self.engine.command(
                command.child,
                gateway,
                command.command_id,
                command.payload,
                moment,
                wall_now=wall_now,
                to_sim=self.clock.to_sim,
            )
            now += replies
            later += laters
        self.send(now)
        for item in by_moment(later):
            self._schedule_later(item)

    def _schedule_later(self, item: Later) -> None:
        delay = self.clock.real_delay((item.at - self.clock.now()).total_seconds())

        def fire() -> None:
            self._laters.discard(handle)
            self.send(item.make(item.at))

        handle = self.pool.loop.call_later(max(delay, 0.0), fire)
        self._laters.add(handle)

    # - running -

    async def run(self, stop: asyncio.Event) -> None:
        """Connect every device, report on schedule until ``stop`` is set, then say
        goodbye (statuses offline) and disconnect cleanly.

        Raises :class:`ConnectionError` at once when the broker cannot be reached.
        """
        self.clock.reset(follow_wall=self._follow_wall)
        await self.pool.open()
        keepalive = asyncio.create_task(self.pool.keep_alive(), name="simulator-keepalive")
        self._held = []
        try:
            await self.pool.connect_all(stop)
            await self._release_held(stop)
            await self._report(stop)
        finally:
            keepalive.cancel()
            for handle in self._laters:
                handle.cancel()
            self._laters.clear()
            await asyncio.gather(keepalive, return_exceptions=True)
            await self.pool.close(self._goodbye, GOODBYE_TIMEOUT_S)

    def _flush(self) -> None:
        if self.bundler is not None:
            self.bundler.flush()

    async def _report(self, stop: asyncio.Event) -> None:
        """Send each device's reports when simulated time reaches them."""
        devices = list(self.engine.devices.values())
        intervals = [self.engine.interval_s(d) for d in devices]
        begin = self.clock.now()
        heap = [(self.engine.first_report(d, begin).timestamp(), i) for i, d in enumerate(devices)]
        heapq.heapify(heap)
        while not stop.is_set():
            now = self.clock.timestamp()
            handled = 0
            while heap and heap[0][0] <= now:
                due, index = heap[0]
                moments = []
                while due <= now:
                    moments.append(due)
                    due += intervals[index]
                heapq.heapreplace(heap, (due, index))
                messages: list[Message] = []
                for moment in moments[-MAX_BATCH:]:
                    messages += self.engine.tick(
                        devices[index], datetime.fromtimestamp(moment, UTC)
                    )
                self.send(messages, flush=False)
                handled += 1
                if handled % SLICE == 0:
                    self._flush()
                    await asyncio.sleep(0)  # let the sockets work
                    await self.pool.until(lambda: self.pool.pending <= MAX_PENDING, stop)
                    if stop.is_set():
                        return
            self._flush()
            wait = self.clock.real_delay(heap[0][0] - self.clock.timestamp()) if heap else 1.0
            await asyncio.sleep(min(max(wait, MIN_SLEEP_S), MAX_SLEEP_S))
