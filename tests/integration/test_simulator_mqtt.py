"""The simulated fleet against a real broker: a private Mosquitto on a loopback port.

A small fleet (a cabinet and its five lights, a traffic controller, a camera) at 600
times real speed, so a few seconds cover an evening.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

import aiomqtt
import orjson
import pytest

from beffroi.config import BrokerUrl
from beffroi.devices import topics
from beffroi.devices.topics import Channel, Topic
from beffroi.simulator import SimAsset, Simulator
from tests.mqtt_support import LOOPBACK, Mosquitto, start_mosquitto
from tests.unit.test_simulator_behaviours import LAT, LON, asset, catalogue_problems

ROOT = "beffroi/v1"
EVENING = datetime(2024, 11, 20, 21, 0, tzinfo=ZoneInfo("Europe/Paris"))
WAIT_S = 20.0

pytestmark = pytest.mark.timeout(120)


def small_fleet() -> list[SimAsset]:
    """A cabinet with five lights, a traffic controller and a PTZ camera."""
    fleet = [asset("LC-T1", "lighting_cabinet", circuits=2, phases=1)]
    fleet += [
        asset(f"SL-T{i}", "streetlight", "LC-T1", rated_power_w=40.0, circuit=1 + i % 2)
        for i in range(1, 6)
    ]
    fleet.append(asset("TC-T1", "traffic_controller", plans=4, detectors=2, bus_priority=True))
    fleet.append(asset("CAM-T1", "camera", kind="ptz", presets=8))
    return fleet


class Spy:
    """A subscriber to everything under the root, keeping what it receives."""

    def __init__(self, broker: Mosquitto, name: str) -> None:
        self.client = aiomqtt.Client(LOOPBACK, broker.port, identifier=name)
        self.received: list[tuple[Topic, Any, bool]] = []
        self.changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Spy:
        await self.client.__aenter__()
        await self.client.subscribe(f"{ROOT}/#", qos=1)
        self._task = asyncio.create_task(self._collect())
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.client.__aexit__(kind, exc, tb)

    async def _collect(self) -> None:
        async for message in self.client.messages:
            topic = topics.parse(str(message.topic), ROOT)
            if topic is None or not isinstance(message.payload, bytes | bytearray):
                continue
            self.received.append((topic, orjson.loads(message.payload), message.retain))
            self.changed.set()

    async def publish(self, topic: Topic, body: dict[str, Any]) -> None:
        """Publish as the hub does."""
        await self.client.publish(topics.build(topic, ROOT), orjson.dumps(body), qos=1)

    def on(self, channel: Channel, device_id: str | None = None) -> list[tuple[Topic, Any, bool]]:
        """What was received on ``channel`` (for one device)."""
        return [
            r
            for r in self.received
            if r[0].channel is channel and (device_id is None or r[0].device_id == device_id)
        ]

    async def wait_for(self, done: Callable[[], bool], what: str) -> None:
        """Wait until ``done()``; fail naming ``what`` after a while."""
        deadline = asyncio.get_running_loop().time() + WAIT_S
        while not done():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                pytest.fail(f"timed out waiting for {what}; got {len(self.received)} messages")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                continue


def simulator(broker: Mosquitto, fleet: list[SimAsset], *, bulk: bool = False) -> Simulator:
    """The fleet at 600x from a November evening, without random faults or failures
    (its cabinets speaking for their lights one by one, unless ``bulk``)."""
    return Simulator(
        fleet,
        None,
        BrokerUrl.parse(broker.url),
        root=ROOT,
        speed=600,
        seed=5,
        start=EVENING,
        fault_rate=0.0,
        command_failure_rate=0.0,
        latitude=LAT,
        longitude=LON,
        bulk=bulk,
    )


@pytest.fixture
def broker(tmp_path: Path) -> Any:
    """A private Mosquitto letting anyone in."""
    with start_mosquitto(tmp_path, allow_anonymous=True) as running:
        yield running


async def test_fleet_reports_obeys_and_says_goodbye(broker: Mosquitto) -> None:
    fleet = small_fleet()
    types = {a.id: a.type for a in fleet}
    sim = simulator(broker, fleet)
    stop = asyncio.Event()
    async with Spy(broker, "spy-hub") as hub:
        task = asyncio.create_task(sim.run(stop))
        try:
            await hub.wait_for(
                lambda: all(hub.on(Channel.TELEMETRY, i) for i in types), "telemetry from all"
            )
            # Every reading names a known key, within the catalogue's range.
            for topic, body, _ in hub.on(Channel.TELEMETRY):
                for reading in body if isinstance(body, list) else [body]:
                    assert datetime.fromisoformat(reading["ts"]).tzinfo is not None
                    problems = catalogue_problems(types[topic.device_id], reading["values"])
                    assert not problems
                expected_gateway = "LC-T1" if topic.device_id.startswith("SL-") else None
                assert topic.gateway_id == expected_gateway

            # A latecomer gets each device's retained status: online, with firmware.
            async with Spy(broker, "spy-late") as late:
                await late.wait_for(
                    lambda: {t.device_id for t, _, _ in late.on(Channel.STATUS)} == set(types),
                    "retained statuses",
                )
                for topic, body, retained in late.on(Channel.STATUS):
                    assert retained, topic
                    assert body["online"] is True
                    assert body["firmware"]

            # The hub dims a light through its cabinet (the field gateway).
            light = Topic(Channel.COMMAND, "SL-T3", "LC-T1", "cmd-dim-1")
            expires = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
            seen = len(hub.received)
            await hub.publish(
                light, {"name": "dim", "params": {"level_pct": 30}, "expires_at": expires}
            )

            def replies(command_id: str) -> list[str]:
                return [
                    b["status"]
                    for t, b, _ in hub.on(Channel.REPLY, "SL-T3")
                    if t.command_id == command_id
                ]

            await hub.wait_for(lambda: len(replies("cmd-dim-1")) >= 2, "the dim's replies")
            assert replies("cmd-dim-1") == ["accepted", "succeeded"]
            reply_topic = next(t for t, _, _ in hub.on(Channel.REPLY, "SL-T3"))
            assert reply_topic.gateway_id == "LC-T1"

            def levels_after_reply() -> list[float]:
                after = hub.received[seen:]
                done = next(
                    i for i, (t, b, _) in enumerate(after)
                    if t.channel is Channel.REPLY and b["status"] == "succeeded"
                )  # fmt: skip
                return [
                    r["values"]["level_pct"]
                    for t, b, _ in after[done + 1 :]
                    if t.channel is Channel.TELEMETRY and t.device_id == "SL-T3"
                    for r in (b if isinstance(b, list) else [b])
                ]

            await hub.wait_for(lambda: len(levels_after_reply()) >= 2, "telemetry after the dim")
            assert set(levels_after_reply()) == {30}

            # Bad parameters are rejected, and nothing else is said about that command.
            bad = Topic(Channel.COMMAND, "SL-T3", "LC-T1", "cmd-bad-1")
            await hub.publish(bad, {"name": "dim", "params": {"level_pct": 300}})
            await hub.wait_for(lambda: bool(replies("cmd-bad-1")), "the rejection")
            assert replies("cmd-bad-1") == ["rejected"]
            assert sim.commands_answered == 2
            assert sim.messages_published > 0
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)

        # A clean stop says each device is offline (no will is sent on a clean disconnect).
        await hub.wait_for(
            lambda: (
                {t.device_id for t, b, _ in hub.on(Channel.STATUS) if b == {"online": False}}
                == set(types)
            ),
            "offline statuses",
        )
    assert sim.stats.connections == 0
    assert sim.stats.messages_dropped == 0

    def leaked() -> list[asyncio.Task[Any]]:
        return [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]

    # The subscribers' cancelled tasks finish within a few turns of the loop.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(2):
            while leaked():  # noqa: ASYNC110 - no event says when the last task is done
                await asyncio.sleep(0.01)
    assert not leaked()


async def test_cabinets_speak_for_their_lights_in_bulk(broker: Mosquitto) -> None:
    fleet = small_fleet()
    lights = {a.id for a in fleet if a.parent_id == "LC-T1"}
    sim = simulator(broker, fleet, bulk=True)
    stop = asyncio.Event()
    async with Spy(broker, "spy-hub") as hub:
        task = asyncio.create_task(sim.run(stop))
        try:

            def bulk_on(channel: Channel) -> list[Any]:
                return [b for t, b, _ in hub.on(channel, "LC-T1") if t.bulk]

            # The cabinet announces the bulk form, and its lights' statuses come in bulk.
            await hub.wait_for(
                lambda: any(not t.bulk and b.get("bulk") for t, b, _ in hub.on(Channel.STATUS)),
                "the cabinet's bulk version",
            )
            await hub.wait_for(
                lambda: lights <= {c for b in bulk_on(Channel.STATUS) for c in b}, "bulk statuses"
            )
            await hub.wait_for(
                lambda: lights <= {c for b in bulk_on(Channel.TELEMETRY) for c in b},
                "bulk telemetry",
            )
            # No light speaks on its own topics any more.
            assert not [t for t, _, _ in hub.received if t.device_id in lights]
            for body in bulk_on(Channel.TELEMETRY):
                for child, readings in body.items():
                    for reading in readings:
                        assert not catalogue_problems("streetlight", reading["values"]), child

            # One command for three lights, each with its own command id; the replies
            # come back in bulk, keyed by command id.
            expires = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
            commands = {"SL-T1": "c1", "SL-T2": "c2", "SL-T4": "c4"}
            dim = {"name": "dim", "params": {"level_pct": 30}, "expires_at": expires}
            message = topics.bulk(Channel.COMMAND, "LC-T1", "m1")
            await hub.publish(message, {**dim, "commands": commands})

            def outcomes() -> dict[str, list[str]]:
                out: dict[str, list[str]] = {}
                for t, body, _ in hub.on(Channel.REPLY, "LC-T1"):
                    assert t.bulk, t
                    assert t.command_id == "m1", t
                    for command_id, reply in body.items():
                        out.setdefault(command_id, []).append(reply["status"])
                return out

            await hub.wait_for(
                lambda: all(len(v) >= 2 for v in outcomes().values()) and len(outcomes()) == 3,
                "the bulk replies",
            )
            assert outcomes() == {key: ["accepted", "succeeded"] for key in ["c1", "c2", "c4"]}
            # The lights obeyed together: their final replies share one message, and the
            # state they report after it one telemetry message (not one per light).
            finals = [
                set(body)
                for _, body, _ in hub.on(Channel.REPLY, "LC-T1")
                if any(r["status"] == "succeeded" for r in body.values())
            ]
            assert finals == [set(commands.values())]
            await hub.wait_for(
                lambda: any(
                    set(commands) <= set(b)
                    and all(r["values"].get("level_pct") == 30 for c in commands for r in b[c][-1:])
                    for b in bulk_on(Channel.TELEMETRY)
                ),
                "the dimmed lights' state, in one message",
            )
            # The same message again (a QoS 1 redelivery): answered, not done twice.
            await hub.publish(message, {**dim, "commands": commands})
            await hub.wait_for(
                lambda: all(len(v) >= 3 for v in outcomes().values()), "the repeated answers"
            )
            # Its final word again, without an "accepted" that would mean it is redone.
            assert outcomes() == {
                key: ["accepted", "succeeded", "succeeded"] for key in ["c1", "c2", "c4"]
            }
            assert sim.engine.stats.commands_ignored == 0
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
    assert sim.stats.messages_dropped == 0


CRASHING_SIMULATOR = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import datetime, timezone
    from beffroi.config import BrokerUrl
    from beffroi.simulator import SimAsset, Simulator

    camera = SimAsset("CAM-W1", "camera", None, {"presets": 0}, "dijon", 5.04, 47.32)
    broker = BrokerUrl.parse(sys.argv[1])
    simulator = Simulator([camera], None, broker, latitude=47.32, longitude=5.04, speed=60)
    asyncio.run(simulator.run(asyncio.Event()))
    """
)


async def test_a_killed_simulator_leaves_its_will(broker: Mosquitto, tmp_path: Path) -> None:
    log = tmp_path / "simulator.log"
    async with Spy(broker, "spy-will") as hub:
        with log.open("wb") as output:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                CRASHING_SIMULATOR,
                broker.url,
                env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")},
                stdout=output,
                stderr=output,
            )
        try:

            def statuses() -> list[Any]:
                return [b for _, b, _ in hub.on(Channel.STATUS, "CAM-W1")]

            await hub.wait_for(lambda: bool(statuses()), "the camera to come online")
            assert statuses()[0]["online"] is True, log.read_text()
            process.send_signal(signal.SIGKILL)  # no goodbye: the broker sends the will
            await hub.wait_for(lambda: len(statuses()) >= 2, "the will")
            assert statuses()[-1] == {"online": False}
        finally:
            if process.returncode is None:
                process.kill()
            await asyncio.wait_for(process.wait(), 10)
