"""The gateway's side of document delivery: sending devices the versioned documents the
hub keeps on them (lighting cabinets' schedules, traffic controllers' timetables) over
MQTT, and recording what they acknowledge (:mod:`beffroi.devices.delivery` decides what
and keeps the state).

One task per kind of document, woken by what makes a delivery due: documents compiled
(in this process or relayed), the scheduler saying retries are due, a device coming back
online, an acknowledgement arriving; and once when the gateway starts, for what was
compiled while it was away. Acknowledgements are taken out of the ingest stream,
recorded in batches, and only then acknowledged to the broker (at least once, as the
pipeline does).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

from beffroi.core.context import Runtime
from beffroi.core.events import DomainEvent, Subscription
from beffroi.core.process import Process
from beffroi.devices import delivery, topics
from beffroi.devices.delivery import Ack, Documents, Reason
from beffroi.devices.topics import Channel
from beffroi.gateway.source import Inbound
from beffroi.lighting import delivery as lighting_delivery
from beffroi.lighting.events import DeliveriesDue, SchedulesCompiled
from beffroi.telemetry.events import ConnectivityChanged
from beffroi.traffic import delivery as traffic_delivery
from beffroi.traffic.events import TimetablesCompiled, TimetablesDue

log = structlog.get_logger(__name__)

ACK_SUFFIX = "/schedule/ack"
# After a failed round (the database away), the next waits this long.
FAILED_ROUND_PAUSE_S = 2.0


@dataclass(frozen=True, slots=True)
class Route:
    """How one kind of document travels: its tables, the topic a device receives it on,
    the acknowledgement's channel and topic suffix, and the events saying new versions
    exist or retries are due."""

    kind: Documents
    topic: Callable[[str], topics.Topic]
    ack_channel: Channel
    ack_suffix: str
    compiled: type[DomainEvent]
    due: type[DomainEvent]


SCHEDULES = Route(
    lighting_delivery.SCHEDULES,
    topics.schedule,
    Channel.SCHEDULE_ACK,
    ACK_SUFFIX,
    SchedulesCompiled,
    DeliveriesDue,
)
TIMETABLES = Route(
    traffic_delivery.TIMETABLES,
    topics.timetable,
    Channel.TIMETABLE_ACK,
    "/timetable/ack",
    TimetablesCompiled,
    TimetablesDue,
)


class ScheduleDelivery:
    """Delivers one kind of document (``route``: lighting schedules unless told) through
    ``publish`` and records acknowledgements."""

    def __init__(
        self,
        runtime: Runtime,
        publish: Callable[[str, bytes], None],
        ack: Callable[[Sequence[Inbound]], None],
        *,
        root: str,
        holds: Callable[[str], bool],
        route: Route = SCHEDULES,
    ) -> None:
        self.runtime = runtime
        self.publish = publish
        self.ack = ack
        self.root = root
        # Whether an asset holds this kind of document (a cabinet, a controller).
        self.holds = holds
        self.route = route
        self.ctx = runtime.system_context(f"gateway:{route.kind.noun}-delivery")
        self._wake = asyncio.Event()
        self._acks: list[Inbound] = []
        self._reconnected: set[str] = set()
        self._compiled = True  # the first round sends what was compiled while away
        self._retry = False
        self.sent = 0
        self.acks_recorded = 0
        self.acks_ignored = 0

    def take(self, items: Sequence[Inbound]) -> Sequence[Inbound]:
        """Keep this route's acknowledgements among ``items``; return the others (for the
        ingest pipeline). Called on the event loop for every burst: a suffix test first."""
        suffix = self.route.ack_suffix
        if not any(item.topic.endswith(suffix) for item in items):
            return items
        rest = []
        for item in items:
            if item.topic.endswith(suffix):
                self._acks.append(item)
            else:
                rest.append(item)
        self._wake.set()
        return rest

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver and record until ``stop`` is set."""
        subscription = self.runtime.events.subscribe(
            self.route.compiled, self.route.due, ConnectivityChanged
        )
        with subscription:
            async with Process(stop, grace_s=0) as beside:
                beside.start(f"{self.route.kind.noun}-events", self._listen(subscription))
                while not stop.is_set():
                    try:
                        await self.round()
                    except Exception:  # logged; the next wake-up tries again
                        log.exception("delivery round failed", kind=self.route.kind.noun)
                        await asyncio.sleep(FAILED_ROUND_PAUSE_S)
                        self._wake.set()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), 1.0)

    async def _listen(self, subscription: Subscription) -> None:
        async for event in subscription:
            if isinstance(event, ConnectivityChanged):
                if not event.online or not self.holds(event.asset_id):
                    continue
                self._reconnected.add(event.asset_id)
            elif isinstance(event, self.route.compiled):
                self._compiled = True
            else:
                self._retry = True
            self._wake.set()

    async def round(self) -> None:
        """Record the acknowledgements received, then send what is due."""
        self._wake.clear()
        await self._record()
        if self._reconnected:
            back, self._reconnected = self._reconnected, set()
            try:
                await self._send(Reason.RECONNECTED, back)
            except Exception:
                self._reconnected |= back
                raise
        if self._retry:
            self._retry = self._compiled = False
            await self._send(Reason.RETRY, None)
        elif self._compiled:
            self._compiled = False
            await self._send(Reason.COMPILED, None)

    async def _send(self, reason: Reason, devices: set[str] | None) -> None:
        outgoing = await delivery.deliver(self.route.kind, self.ctx, reason, devices)
        for item in outgoing:
            self.publish(topics.build(self.route.topic(item.device_id), self.root), item.payload)
        self.sent += len(outgoing)
        if outgoing:
            log.info(
                "documents sent",
                kind=self.route.kind.noun,
                reason=reason.value,
                devices=len(outgoing),
            )

    async def _record(self) -> None:
        items, self._acks = self._acks, []
        if not items:
            return
        acks: list[Ack] = []
        for item in items:
            parsed = topics.parse(item.topic, self.root)
            version = delivery.parse_ack(item.payload)
            if parsed is None or parsed.channel is not self.route.ack_channel or version is None:
                self.acks_ignored += 1
                log.warning("acknowledgement ignored", topic=item.topic[:200])
                continue
            acks.append(Ack(parsed.device_id, version, item.received_at))
        try:
            outcome = await delivery.record_acks(self.route.kind, self.runtime.db, acks)
        except Exception:
            self._acks[:0] = items  # kept, unacknowledged to the broker: tried again
            raise
        self.ack(items)
        self.acks_recorded += len(outcome.recorded)
        self.acks_ignored += len(outcome.ignored)
        for device, version, why in outcome.ignored[:10]:
            log.warning("acknowledgement ignored", device=device, version=version, why=why)
