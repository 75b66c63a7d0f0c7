"""``beffroi gateway``: subscribe to the devices, ingest, keep device state current, and
deliver the lighting cabinets their schedules and the traffic controllers their
timetables."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import structlog

from beffroi import metrics
from beffroi.alarms.ingest import AlarmObserver
from beffroi.commands.dispatcher import CommandDispatcher
from beffroi.commands.tracker import CommandTracker
from beffroi.config import BrokerUrl
from beffroi.core.context import Runtime
from beffroi.core.process import Process
from beffroi.devices import topics
from beffroi.gateway.pipeline import IngestPipeline
from beffroi.gateway.publisher import MqttPublisher
from beffroi.gateway.schedules import TIMETABLES, ScheduleDelivery
from beffroi.gateway.source import BrokerAddress, Inbound, MqttSource
from beffroi.lighting.reading import cabinet_types
from beffroi.rules import jobs as rule_jobs
from beffroi.rules.engine import RuleEngine
from beffroi.telemetry import jobs
from beffroi.telemetry.directory import DeviceDirectory
from beffroi.telemetry.events import TelemetryUpdated
from beffroi.telemetry.store import TelemetryStore
from beffroi.traffic.reading import controller_types
from beffroi.vehicles.ingest import VehicleTracker

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Schedule:
    """How often the gateway's periodic work runs, in seconds."""

    directory_s: float = 30.0
    silence_s: float = 60.0
    # Rules edited through the API apply from the next batch; new ones are found here.
    rules_s: float = 30.0
    missing_data_s: float = 60.0
    # Rules that failed during a batch are disabled (outside the ingest transaction).
    failed_rules_s: float = 2.0


def broker_address(
    runtime: Runtime, url: BrokerUrl | None = None, version: int = 5, *, embedded: bool = False
) -> BrokerAddress:
    """The hub's address and identity on the configured (or given) broker.

    ``embedded``: the in-process amqtt broker, which speaks MQTT 3.1.1 and gives up on an
    unacknowledged message after 5 s, so messages are acknowledged on receipt there.
    """
    settings = runtime.settings
    return BrokerAddress.from_url(
        url or settings.broker_url,
        settings.mqtt_username,
        settings.hub_mqtt_password,
        settings.mqtt_client_id,
        4 if embedded else version,
        ack_after_store=not embedded,
    )


class Gateway:
    """One gateway worker: an MQTT source feeding the ingest pipeline."""

    def __init__(
        self,
        runtime: Runtime,
        address: BrokerAddress,
        *,
        schedule: Schedule | None = None,
    ) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.address = address
        self.schedule = schedule or Schedule()
        self.directory = DeviceDirectory()
        self.tracker = CommandTracker(
            root=settings.mqtt_root,
            verify_window=timedelta(seconds=settings.command_verify_window_s),
        )
        self.rules = RuleEngine(self.directory.get, timezone=settings.timezone)
        self.alarms = AlarmObserver(self.rules)
        self.store = TelemetryStore(
            runtime.db,
            observers=[self.tracker, self.alarms, VehicleTracker()],
            readings_wanted=lambda: runtime.events.wants(TelemetryUpdated),
        )
        filters = topics.hub_subscriptions(settings.mqtt_root)
        if settings.mqtt_shared_group:
            filters = [topics.shared(f, settings.mqtt_shared_group) for f in filters]
        self.filters = filters
        self.pipeline = IngestPipeline(
            self.store,
            self.directory,
            runtime.events,
            ack=self._ack,
            root=settings.mqtt_root,
            retention=timedelta(days=settings.telemetry_retention_days),
            batch_size=settings.ingest_batch_size,
            batch_bytes=settings.ingest_batch_kb * 1024,
            batch_ms=settings.ingest_batch_ms,
            turn=lambda: self.dispatcher.sent_first(),
            overlap=2 if runtime.db.is_postgres else 1,
        )
        self.source: MqttSource | None = None
        self.publisher = MqttPublisher(address)
        self.dispatcher = CommandDispatcher(
            runtime.db,
            runtime.events,
            self.publisher.publish,
            self.tracker,
            root=settings.mqtt_root,
            poll_s=settings.command_poll_ms / 1000,
            backlog=lambda: len(self.pipeline.pending),
        )
        self._cabinet_types = frozenset(cabinet_types())
        self.schedules = ScheduleDelivery(
            runtime,
            self.publisher.publish,
            self._ack,
            root=settings.mqtt_root,
            holds=self._is_cabinet,
        )
        self._controller_types = frozenset(controller_types())
        self.timetables = ScheduleDelivery(
            runtime,
            self.publisher.publish,
            self._ack,
            root=settings.mqtt_root,
            holds=self._is_controller,
            route=TIMETABLES,
        )

    def _deliver(self, items: Sequence[Inbound]) -> None:
        """What the broker sent: schedule acknowledgements to the schedule delivery, the
        rest to the ingest pipeline."""
        rest = self.timetables.take(self.schedules.take(items))
        if rest:
            self.pipeline.deliver_many(rest)

    def _is_cabinet(self, asset_id: str) -> bool:
        info = self.directory.get(asset_id)
        return info is not None and info.type.key in self._cabinet_types

    def _is_controller(self, asset_id: str) -> bool:
        info = self.directory.get(asset_id)
        return info is not None and info.type.key in self._controller_types

    def _ack(self, items: Sequence[Inbound]) -> None:
        assert self.source is not None
        self.source.ack(items)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; what was received and not stored is redelivered."""
        loaded = await self.directory.refresh(self.runtime.db)
        metrics.DEVICES_KNOWN.set(len(self.directory))
        log.info("gateway directory loaded", devices=loaded)
        await self.rules.refresh(self.runtime.db)
        self.source = MqttSource(
            self.address,
            self.filters,
            asyncio.get_running_loop(),
            self._deliver,
            capacity=self.runtime.settings.ingest_queue_max,
            capacity_bytes=self.runtime.settings.ingest_queue_mb << 20,
        )
        self.source.start()
        self.publisher.start()
        schedule = self.schedule
        try:
            # Once the pipeline has drained, what still runs beside it is cancelled.
            async with Process(stop, grace_s=0) as beside:
                beside.start("command-dispatcher", self.dispatcher.run(stop))
                beside.start("schedule-delivery", self.schedules.run(stop))
                beside.start("timetable-delivery", self.timetables.run(stop))
                beside.start("pause-on-stop", self._pause_on(stop))
                beside.every("directory", schedule.directory_s, self._refresh)
                beside.every("silence", schedule.silence_s, self._silence)
                beside.every("rules", schedule.rules_s, self._refresh_rules)
                beside.every("missing-data", schedule.missing_data_s, self._missing_data)
                beside.every("failed-rules", schedule.failed_rules_s, self._disable_failed_rules)
                await self.pipeline.run(stop)
        finally:
            await asyncio.to_thread(self.source.stop)
            await asyncio.to_thread(self.publisher.stop)

    async def wait_connected(self, seconds: float = 60.0) -> None:
        """Wait until the gateway is connected and subscribed (or raise TimeoutError)."""
        async with asyncio.timeout(seconds):
            # The network thread sets a threading.Event: there is no coroutine to await.
            while (  # noqa: ASYNC110
                self.source is None
                or not self.source.connected.is_set()
                or not self.publisher.connected.is_set()
            ):
                await asyncio.sleep(0.05)

    async def _pause_on(self, stop: asyncio.Event) -> None:
        # Stop taking messages first, so what is already in the pipeline can drain.
        await stop.wait()
        assert self.source is not None
        self.source.pause()

    async def _refresh(self) -> None:
        await self.directory.refresh(self.runtime.db)
        metrics.DEVICES_KNOWN.set(len(self.directory))

    async def _silence(self) -> None:
        self.runtime.events.publish_many(
            await jobs.mark_silent(self.runtime.db, after=self.alarms.silenced)
        )

    async def _refresh_rules(self) -> None:
        await self.rules.refresh(self.runtime.db)

    async def _missing_data(self) -> None:
        self.runtime.events.publish_many(await rule_jobs.check_missing_data(self.runtime.db))

    async def _disable_failed_rules(self) -> None:
        failed = self.alarms.take_failed()
        if failed:
            events = await self.rules.disable_failed(self.runtime.db, failed)
            self.runtime.events.publish_many(events)
