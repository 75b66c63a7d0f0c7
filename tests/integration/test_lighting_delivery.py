"""Schedules delivered to the cabinets' controllers through a real broker (Mosquitto as
provisioned by Beffroi, and the embedded broker), on both databases: acknowledged and
recorded, caught up on reconnection, odd acknowledgements ignored, retries spaced out,
another gateway's schedule out of reach."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from beffroi.assets import service as assets_service
from beffroi.assets.importing import import_assets
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.config import BrokerUrl
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.devices import topics
from beffroi.devices.credentials import issue_credentials
from beffroi.gateway.runner import Gateway, Schedule, broker_address
from beffroi.lighting import delivery, jobs, service
from beffroi.lighting.calendar import parse_calendar
from beffroi.lighting.delivery import Reason
from beffroi.lighting.events import DeliveriesDue
from beffroi.lighting.program import ProgramStep, parse_program
from beffroi.lighting.schedule import content
from beffroi.lighting.schemas import (
    AssignmentCreate,
    CalendarCreate,
    ProgramCreate,
    ProgramUpdate,
    TargetKind,
)
from beffroi.telemetry.service import online_routes
from tests.integration.test_gateway import broker, wait_for
from tests.integration.test_simulator_mqtt import Spy, simulator, small_fleet
from tests.mqtt_support import start_mosquitto
from tests.support import Person, make_person
from tests.unit.test_simulator_behaviours import LAT, LON

pytestmark = pytest.mark.asyncio
ROOT = "beffroi/v1"
NIGHT = [
    {"anchor": "sunset", "level_pct": 100},
    {"anchor": "time", "at": "23:00", "level_pct": 50},
    {"anchor": "sunrise", "level_pct": 0},
]


async def _fleet(system: Context) -> None:
    """Two cabinets in Talant (one light each) and a default calendar for everyone."""

    def asset(asset_id: str, type_: str, parent: str | None = None) -> AssetCreate:
        return AssetCreate(
            id=asset_id,
            type=type_,
            name=asset_id,
            commune="talant",
            location=Point(coordinates=(5.0, 47.33)),
            parent_id=parent,
        )

    items = [
        asset("LC-1", "lighting_cabinet"),
        asset("SL-1", "streetlight", "LC-1"),
        asset("LC-2", "lighting_cabinet"),
    ]
    await import_assets(system, list(enumerate(items, 1)))
    program = await service.create_program(
        system, ProgramCreate(name="Nuit", steps=[ProgramStep.model_validate(s) for s in NIGHT])
    )
    calendar = await service.create_calendar(
        system, CalendarCreate(name="Métropole", default_program_id=program.id)
    )
    await service.create_assignment(
        system, AssignmentCreate(calendar_id=calendar.id, target=TargetKind.DEFAULT)
    )


class Controller:
    """A cabinet's controller as a plain paho client: subscribes to its schedule, keeps
    what it receives, answers what it is told to."""

    def __init__(self, url: str, cabinet: str, secret: str) -> None:
        self.cabinet = cabinet
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        host, port = url.removeprefix("mqtt://").split(":")
        self.address = (host, int(port))
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cabinet, protocol=mqtt.MQTTv311)
        client.username_pw_set(cabinet, secret)
        client.will_set(
            self.topic(topics.Topic(topics.Channel.STATUS, cabinet)), b'{"online":false}', 1, True
        )
        client.on_message = self._on_message
        client.on_subscribe = lambda *_a: self.subscribed.set()
        self.client = client

    def topic(self, topic: topics.Topic) -> str:
        return topics.build(topic, ROOT)

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.received.append(orjson.loads(message.payload))

    def versions(self) -> list[int]:
        with self.lock:
            return [int(d["version"]) for d in self.received]

    async def connect(self, subscribe_to: str | None = None) -> None:
        """Connect, subscribe, then say it is online. Waits happen off the event loop:
        the embedded broker runs on it."""
        self.subscribed.clear()
        await asyncio.to_thread(self.client.connect, *self.address)
        self.client.loop_start()
        self.client.subscribe(subscribe_to or self.topic(topics.schedule(self.cabinet)), qos=1)
        assert await asyncio.to_thread(self.subscribed.wait, 10)
        await self.status(online=True)

    async def _publish(self, topic: str, body: bytes, *, retain: bool = False) -> None:
        info = self.client.publish(topic, body, qos=1, retain=retain)
        await asyncio.to_thread(info.wait_for_publish, 10)
        assert info.is_published()

    async def status(self, *, online: bool) -> None:
        topic = self.topic(topics.Topic(topics.Channel.STATUS, self.cabinet))
        await self._publish(topic, orjson.dumps({"online": online}), retain=True)

    async def ack(self, payload: Any) -> None:
        body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        await self._publish(self.topic(topics.schedule_ack(self.cabinet)), body)

    async def disconnect(self) -> None:
        await self.status(online=False)
        self.client.disconnect()
        await asyncio.to_thread(self.client.loop_stop)


@contextlib.asynccontextmanager
async def running_gateway(
    kind: str, runtime: Runtime, system: Context, tmp_path: Path
) -> AsyncIterator[tuple[Gateway, str]]:
    """A gateway on a broker of ``kind``; yields it and the devices' broker URL."""
    async with broker(kind, runtime, system, tmp_path) as running:
        gateway = Gateway(
            runtime,
            broker_address(
                runtime, BrokerUrl.parse(running.url), running.version, embedded=kind == "embedded"
            ),
            schedule=Schedule(),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        try:
            await gateway.wait_connected()
            yield gateway, running.device_url
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)


async def _state(system: Context, cabinet: str) -> tuple[int, int | None, int | None, bool]:
    row = await service.get_schedule(system, cabinet)
    return row.version, row.delivered_version, row.acked_version, row.behind


@pytest.mark.parametrize("kind", ["mosquitto", "embedded"])
async def test_schedules_reach_the_controllers_and_come_back_acknowledged(
    kind: str, system: Context, runtime: Runtime, tmp_path: Path
) -> None:
    await _fleet(system)
    secrets = dict(await issue_credentials(system, ["LC-1", "LC-2"]))
    async with running_gateway(kind, runtime, system, tmp_path) as (gateway, url):
        lc1 = Controller(url, "LC-1", secrets["LC-1"])
        await lc1.connect()
        # LC-2 tries to listen to LC-1's schedule: the broker does not let it through.
        lc2 = Controller(url, "LC-2", secrets["LC-2"])
        await lc2.connect(subscribe_to=lc1.topic(topics.schedule("LC-1")))
        await wait_for(lambda: _online(gateway, "LC-1", "LC-2"))

        assert await service.compile_schedules(system) == ["LC-1", "LC-2"]
        await wait_for(lambda: _true(lc1.versions() == [1]))
        document = lc1.received[0]
        assert document["cabinet_id"] == "LC-1"
        assert document["calendar"]["rules"] == []
        await lc1.ack({"version": 1})
        await wait_for(lambda: _equal(_state(system, "LC-1"), (1, 1, 1, False)))
        # LC-2 was sent its own (it is not subscribed to it) and never acknowledged it.
        assert await _state(system, "LC-2") == (1, 1, None, True)
        assert lc2.received == []
        behind = await service.list_schedules(system, behind=True)
        assert [s.cabinet_id for s in behind] == ["LC-2"]
        assert [s.cabinet_id for s in await service.list_schedules(system, behind=False)] == [
            "LC-1"
        ]

        # An acknowledgement of a version never sent, or not one at all: ignored.
        ignored = gateway.schedules.acks_ignored
        await lc1.ack({"version": 9})
        await lc1.ack(b"not json")
        await lc1.ack({"version": True})
        await wait_for(lambda: _true(gateway.schedules.acks_ignored >= ignored + 3))
        assert await _state(system, "LC-1") == (1, 1, 1, False)

        # LC-1 goes away; its program changes meanwhile: version 2 is sent to nobody.
        await lc1.disconnect()
        await wait_for(lambda: _offline(gateway, "LC-1"))
        program = (await service.list_programs(system))[0]
        steps = [ProgramStep.model_validate(s) for s in [NIGHT[0], NIGHT[2]]]
        await service.update_program(
            system, program.id, ProgramUpdate(version=program.version, steps=steps)
        )
        assert await service.compile_schedules(system) == ["LC-1", "LC-2"]
        await wait_for(lambda: _equal(_state(system, "LC-1"), (2, 2, 1, True)))
        assert lc1.versions() == [1]
        # Back online: it gets version 2 straight away, and acknowledges it.
        await lc1.connect()
        await wait_for(lambda: _true(lc1.versions()[-1:] == [2]))
        assert set(lc1.versions()) == {1, 2}
        assert len(lc1.received[-1]["programs"][str(program.id)]["steps"]) == 2
        await lc1.ack({"version": 2})
        await wait_for(lambda: _equal(_state(system, "LC-1"), (2, 2, 2, False)))
        # A late repeat of the older acknowledgement moves nothing back.
        await lc1.ack({"version": 1})
        await asyncio.sleep(0.3)
        assert await _state(system, "LC-1") == (2, 2, 2, False)

        # Its controller is replaced (or reset) while up to date: the new one knows no
        # schedule, and is sent the one in force as soon as it comes online.
        await lc1.disconnect()
        await wait_for(lambda: _offline(gateway, "LC-1"))
        replacement = Controller(url, "LC-1", secrets["LC-1"])
        await replacement.connect()
        await wait_for(lambda: _true(replacement.versions() == [2]))
        await replacement.ack({"version": 2})
        assert lc2.received == []
        await replacement.disconnect()
        await lc2.disconnect()


async def _true(value: bool) -> bool:
    return value


async def _equal(state: Any, expected: tuple[Any, ...]) -> bool:
    return bool(await state == expected)


async def _offline(gateway: Gateway, cabinet: str) -> bool:
    # The status reaches the database through the ingest pipeline; the delivery only
    # learns of the next "online" if it saw the cabinet offline first.
    async with gateway.runtime.db.read() as session:
        return cabinet not in await online_routes(session, [cabinet])


async def test_unacknowledged_schedules_are_sent_again_ever_less_often(
    system: Context, runtime: Runtime
) -> None:
    await _fleet(system)
    now = utcnow()
    await service.compile_schedules(system, now=now)
    due = runtime.events.subscribe(DeliveriesDue)
    assert await jobs.deliveries_due(system) == 2
    assert due.get_nowait().count == 2
    sent = await delivery.deliver(system, Reason.COMPILED, now=now)
    assert [(o.cabinet_id, o.version) for o in sent] == [("LC-1", 1), ("LC-2", 1)]
    assert orjson.loads(sent[0].payload)["version"] == 1
    # Sent once: nothing more until the wait is over, however often asked.
    assert await delivery.deliver(system, Reason.COMPILED, now=now) == []
    assert await delivery.deliver(system, Reason.RETRY, now=now + timedelta(seconds=59)) == []
    assert await jobs.deliveries_due(system) == 0
    later = now + timedelta(minutes=1)
    assert len(await delivery.deliver(system, Reason.RETRY, now=later)) == 2
    # The second wait is twice the first.
    assert await delivery.deliver(system, Reason.RETRY, now=later + timedelta(seconds=119)) == []
    again = await delivery.deliver(system, Reason.RETRY, now=later + timedelta(minutes=2))
    assert len(again) == 2
    # A cabinet back online gets what it is behind on at once, whatever the wait.
    back = await delivery.deliver(system, Reason.RECONNECTED, ["LC-2", "SL-1"], now=later)
    assert [o.cabinet_id for o in back] == ["LC-2"]
    # Acknowledged: never sent again.
    outcome = await delivery.record_acks(
        runtime.db, [delivery.Ack("LC-1", 1, later), delivery.Ack("LC-9", 1, later)]
    )
    assert outcome.recorded == ["LC-1"]
    assert outcome.ignored == [("LC-9", 1, "no schedule sent")]
    far = later + timedelta(days=1)
    assert [o.cabinet_id for o in await delivery.deliver(system, Reason.RETRY, now=far)] == ["LC-2"]
    # A decommissioned cabinet keeps its last schedule but is sent nothing any more.
    await assets_service.decommission_asset(system, "LC-2", "replaced")
    assert await delivery.deliver(system, Reason.RETRY, now=far + timedelta(days=1)) == []
    assert delivery.retry_after(1) == timedelta(minutes=1)
    assert delivery.retry_after(50) == timedelta(hours=1)


async def _online(gateway: Gateway, *cabinets: str) -> bool:
    async with gateway.runtime.db.read() as session:
        return set(cabinets) <= set(await online_routes(session, list(cabinets)))


async def test_the_simulated_cabinets_run_the_schedule_they_are_delivered(
    tmp_path: Path,
) -> None:
    """Through Mosquitto: before 23:00 the built-in profile lights at 100 %; once the
    cabinet takes a schedule asking 30 % all night, it acknowledges it and its lights
    report 30 %."""
    fleet = small_fleet()
    lights = {a.id for a in fleet if a.parent_id == "LC-T1"}
    program = parse_program(
        {"steps": [{"anchor": "sunset", "level_pct": 30}, {"anchor": "sunrise", "level_pct": 0}]}
    )
    body = content(
        cabinet_id="LC-T1",
        lat=LAT,
        lon=LON,
        timezone="Europe/Paris",
        calendar_id=1,
        calendar=parse_calendar({"default_program_id": 4}),
        programs={4: program},
        year=2024,
    )
    with start_mosquitto(tmp_path, allow_anonymous=True) as mosquitto:
        sim = simulator(mosquitto, fleet, bulk=True)
        stop = asyncio.Event()
        async with Spy(mosquitto, "spy-hub") as hub:
            task = asyncio.create_task(sim.run(stop))
            try:

                def levels() -> list[set[float]]:
                    """The lights' levels, message by message of the cabinet's telemetry."""
                    return [
                        {r["values"]["level_pct"] for c, rs in b.items() for r in rs if c in lights}
                        for t, b, _ in hub.on(topics.Channel.TELEMETRY, "LC-T1")
                        if t.bulk
                    ]

                await hub.wait_for(lambda: {100.0} in levels(), "the night profile's 100 %")
                # The hub delivers, as the gateway does.
                await hub.client.publish(
                    topics.build(topics.schedule("LC-T1"), ROOT),
                    orjson.dumps({"version": 1, **body}),
                    qos=1,
                )
                await hub.wait_for(
                    lambda: (
                        [b for _, b, _ in hub.on(topics.Channel.SCHEDULE_ACK, "LC-T1")]
                        == [{"version": 1}]
                    ),
                    "the acknowledgement",
                )
                seen = len(levels())
                await hub.wait_for(lambda: {30.0} in levels()[seen:], "the schedule's 30 %")
                assert all(level == {30.0} for level in levels()[seen:])
                assert sim.engine.stats.schedules_taken == 1
            finally:
                stop.set()
                await asyncio.wait_for(task, 15)


async def test_the_api_lists_who_is_behind_within_your_communes(
    client: httpx.AsyncClient, system: Context, runtime: Runtime
) -> None:
    await _fleet(system)
    chenove = AssetCreate(
        id="LC-CHE-1",
        type="lighting_cabinet",
        name="LC-CHE-1",
        commune="chenove",
        location=Point(coordinates=(5.006, 47.292)),
    )
    await import_assets(system, [(1, chenove)])
    now = utcnow()
    await service.compile_schedules(system, now=now)
    assert await jobs.recompile(system) == []  # the daily job: nothing moved, nothing to do
    await delivery.deliver(system, Reason.COMPILED, now=now)
    await delivery.record_acks(runtime.db, [delivery.Ack("LC-1", 1, now)])
    talant = await make_person(system, "sup-talant", [Role.SUPERVISOR], communes=["talant"])
    admin = await make_person(system, "admin-all", [Role.ADMIN])

    async def listed(person: Person, **params: str) -> list[tuple[str, int | None, bool]]:
        r = await client.get("/api/v1/lighting/schedules", params=params, headers=person.headers)
        assert r.status_code == 200, r.text
        return [(s["cabinet_id"], s["acked_version"], s["behind"]) for s in r.json()]

    assert await listed(admin) == [
        ("LC-1", 1, False),
        ("LC-2", None, True),
        ("LC-CHE-1", None, True),
    ]
    assert await listed(admin, behind="true") == [("LC-2", None, True), ("LC-CHE-1", None, True)]
    assert await listed(admin, behind="false") == [("LC-1", 1, False)]
    assert await listed(talant, behind="true") == [("LC-2", None, True)]
    r = await client.get(
        "/api/v1/lighting/schedules", params={"behind": "maybe"}, headers=admin.headers
    )
    assert r.status_code == 422
    assert "behind" in r.text
    one = await client.get("/api/v1/lighting/schedules/LC-1", headers=talant.headers)
    body = one.json()
    assert (body["version"], body["delivered_version"], body["acked_version"]) == (1, 1, 1)
    assert body["document"]["version"] == 1
