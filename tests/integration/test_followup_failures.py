"""A failure while stored messages are followed up never makes them refused or lost.

The gateway's own wiring (its command tracker, rule engine and alarm observer behind the
telemetry store) runs its ingest loop on both databases. Each follow-up stage in turn is
made to fail, for one light or for every light of a batch that brings, for two lights,
a command's reply, readings that verify the command and breach a rule, and a fault: the
readings are stored, every message acknowledged and none rejected, the other light is
followed up as usual, the failure is counted under its stage, and the loop goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from beffroi import metrics
from beffroi.alarms import raising
from beffroi.alarms.lifecycle import AlarmSource
from beffroi.alarms.models import Alarm
from beffroi.alarms.signals import AlarmSignal
from beffroi.assets.importing import import_assets
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.commands import service as commands
from beffroi.commands.dispatcher import CommandDispatcher
from beffroi.commands.models import Command
from beffroi.commands.schemas import CommandCreate
from beffroi.commands.tracker import CommandTracker
from beffroi.config import BrokerUrl
from beffroi.core.context import Context, Runtime
from beffroi.core.events import DomainEvent, EventHub
from beffroi.core.time import utcnow
from beffroi.gateway.pipeline import IngestPipeline
from beffroi.gateway.runner import Gateway, broker_address
from beffroi.gateway.source import Inbound
from beffroi.rules import editing as rules
from beffroi.rules.engine import RuleEngine
from beffroi.rules.models import RuleState
from beffroi.telemetry.decode import Reply
from beffroi.telemetry.followup import Stage
from beffroi.telemetry.models import LatestValue, RejectedMessage, TelemetryPoint
from tests.integration.test_command_supersession import reported
from tests.integration.test_commands import hub, wait_for
from tests.integration.test_ingest import message
from tests.integration.test_rules import threshold

pytestmark = pytest.mark.asyncio
ROOT = "beffroi/v1"
LIGHTS = ("SL-1", "SL-2")
RULE_ALARM = "rule:hot-lights"


class Acks:
    """What the pipeline acknowledged, awaitable."""

    def __init__(self) -> None:
        self.mids: set[int] = set()
        self._changed = asyncio.Event()

    def __call__(self, items: Sequence[Inbound]) -> None:
        self.mids.update(i.mid for i in items)
        self._changed.set()

    async def until(self, mids: Iterable[int], seconds: float = 10.0) -> None:
        wanted = set(mids)
        async with asyncio.timeout(seconds):
            while not wanted <= self.mids:
                self._changed.clear()
                await self._changed.wait()


@dataclass
class Site:
    """The gateway's ingest loop running, and a dim command sent to each light."""

    runtime: Runtime
    pipeline: IngestPipeline
    acks: Acks
    task: asyncio.Task[None]
    commands: dict[str, str]
    mid: int = 0
    events: list[object] = field(default_factory=list)

    async def send(self, items: list[tuple[str, Any]]) -> None:
        """Deliver messages at once (one batch) and wait for their acknowledgement."""
        batch = []
        for topic, body in items:
            self.mid += 1
            batch.append(message(self.mid, topic, body))
        self.pipeline.deliver_many(batch)
        await self.acks.until(m.mid for m in batch)
        assert not self.task.done(), "the ingest loop stopped"


def light_topic(light: str, channel: str) -> str:
    return f"gateways/LC-1/devices/{light}/{channel}"


async def fleet(system: Context) -> None:
    """A Talant cabinet and its two lights."""

    def asset(asset_id: str, type_: str, parent: str | None = None) -> AssetCreate:
        return AssetCreate(
            id=asset_id,
            type=type_,
            name=asset_id,
            commune="talant",
            location=Point(coordinates=(5.0, 47.33)),
            parent_id=parent,
        )

    items = [asset("LC-1", "lighting_cabinet")]
    items += [asset(light, "streetlight", "LC-1") for light in LIGHTS]
    await import_assets(system, list(enumerate(items, 1)))


@contextlib.asynccontextmanager
async def gateway_ingest(runtime: Runtime, system: Context) -> AsyncIterator[Site]:
    """The gateway's store and observers behind its ingest loop (no broker: messages are
    handed to the loop as its MQTT source does), the lights online, a rule on their
    power, and a dim command sent to each light by the gateway's dispatcher."""
    await fleet(system)
    await rules.create_rule(system, threshold())
    gateway = Gateway(runtime, broker_address(runtime, BrokerUrl("127.0.0.1", 9)))
    await gateway.directory.refresh(runtime.db)
    await gateway.rules.refresh(runtime.db)
    acks = Acks()
    pipeline = IngestPipeline(
        gateway.store,
        gateway.directory,
        runtime.events,
        acks,
        root=ROOT,
        retention=timedelta(days=90),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(pipeline.run(stop))
    site = Site(runtime, pipeline, acks, task, {})
    try:
        await site.send([(light_topic(light, "status"), {"online": True}) for light in LIGHTS])
        for light in LIGHTS:
            out = await commands.send_command(
                system, CommandCreate(asset_id=light, name="dim", params={"level_pct": 40})
            )
            site.commands[light] = out.id
        published: list[str] = []
        dispatcher = CommandDispatcher(
            runtime.db,
            runtime.events,
            lambda topic, _payload: published.append(topic),
            gateway.tracker,
            root=ROOT,
        )
        assert await dispatcher.dispatch_due() == len(LIGHTS)
        assert len(published) == len(LIGHTS)
        yield site
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def batch_for(site: Site) -> list[tuple[str, Any]]:
    """For each light: the command's reply, readings that verify it and breach the
    rule, and a lamp failure."""
    ts = utcnow().isoformat()
    items: list[tuple[str, Any]] = []
    for light in LIGHTS:
        items += [
            (light_topic(light, f"commands/{site.commands[light]}/reply"), {"status": "succeeded"}),
            (
                light_topic(light, "telemetry"),
                {"ts": ts, "values": {"level_pct": 40, "power_w": 150}},
            ),
            (light_topic(light, "events"), {"ts": ts, "code": "lampFailure", "active": True}),
        ]
    return items


@dataclass(frozen=True)
class Facts:
    """What was stored and followed up for one light."""

    points: int
    latest: dict[str, float | None]
    command: tuple[str, str]
    alarms: frozenset[str]
    rule_state: bool
    events: frozenset[str]


HEALTHY = Facts(
    points=2,
    latest={"level_pct": 40.0, "power_w": 150.0},
    command=("succeeded", "verified"),
    alarms=frozenset({"lampFailure", RULE_ALARM}),
    rule_state=True,
    events=frozenset(
        {
            "TelemetryUpdated",
            "DeviceEventReceived",
            "CommandReplyReceived",
            "CommandChanged",
            "AlarmChanged",
        }
    ),
)
# What a failing stage leaves undone for its light; the rest is followed up.
BROKEN: dict[Stage, dict[str, Any]] = {
    # The reply is lost (acknowledged, counted); the readings verify the command anyway.
    Stage.REPLIES: {"command": ("sent", "verified")},
    Stage.VERIFICATION: {"command": ("succeeded", "pending")},
    Stage.RULES: {"alarms": frozenset({"lampFailure"}), "rule_state": False},
    # The rule's state goes with the alarm it would have raised: judged again next time.
    Stage.ALARMS: {
        "alarms": frozenset(),
        "rule_state": False,
        "events": HEALTHY.events - {"AlarmChanged"},
    },
    Stage.EVENTS: {"events": frozenset()},
}


async def facts(site: Site, light: str) -> Facts:
    async with site.runtime.db.read() as session:
        points = await session.scalar(
            select(func.count()).select_from(TelemetryPoint).where(TelemetryPoint.asset_id == light)
        )
        rows = await session.execute(
            select(LatestValue.key, LatestValue.value).where(LatestValue.asset_id == light)
        )
        latest = dict(rows.all())
        command = (
            await session.execute(
                select(Command.state, Command.verification).where(
                    Command.id == site.commands[light]
                )
            )
        ).one()
        alarms = (
            await session.scalars(
                select(Alarm.alarm_type).where(
                    Alarm.asset_id == light, Alarm.active_key.is_not(None)
                )
            )
        ).all()
        states = await session.scalar(
            select(func.count()).select_from(RuleState).where(RuleState.asset_id == light)
        )
    events = {type(e).__name__ for e in site.events if getattr(e, "asset_id", None) == light}
    return Facts(
        points or 0,
        latest,
        (command.state, command.verification),
        frozenset(a for a in alarms if a != "communicationLoss"),
        bool(states),
        frozenset(events),
    )


def failures(stage: Stage) -> float:
    value = metrics.REGISTRY.get_sample_value(
        "beffroi_followup_failures_total", {"stage": stage.value}
    )
    return value or 0.0


def break_stage(monkeypatch: pytest.MonkeyPatch, stage: Stage, bad: frozenset[str]) -> list[str]:
    """Make ``stage`` raise whenever it works for one of the ``bad`` lights; returns the
    list of the lights it raised for, as it raises."""
    raised: list[str] = []

    def check(assets: Iterable[str]) -> None:
        hit = bad & set(assets)
        if hit:
            raised.extend(sorted(hit))
            raise RuntimeError(f"{stage} broken for {sorted(hit)}")

    if stage is Stage.REPLIES:
        replies = CommandTracker._replies

        async def broken_replies(
            self: CommandTracker, session: Any, batch: Sequence[Reply], *rest: Any
        ) -> Any:
            check(r.sender for r in batch)
            return await replies(self, session, batch, *rest)

        monkeypatch.setattr(CommandTracker, "_replies", broken_replies)
    elif stage is Stage.VERIFICATION:
        verify = CommandTracker._verify

        async def broken_verify(self: CommandTracker, session: Any, assets: Any, *rest: Any) -> Any:
            check(assets)
            return await verify(self, session, assets, *rest)

        monkeypatch.setattr(CommandTracker, "_verify", broken_verify)
    elif stage is Stage.RULES:
        evaluate = RuleEngine.evaluate

        async def broken_evaluate(self: RuleEngine, session: Any, newest: Any, now: Any) -> Any:
            check(asset for asset, _ in newest)
            return await evaluate(self, session, newest, now)

        monkeypatch.setattr(RuleEngine, "evaluate", broken_evaluate)
    elif stage is Stage.ALARMS:
        apply = raising.apply

        async def broken_apply(session: Any, signals: Sequence[AlarmSignal], now: Any) -> Any:
            # The alarms of the ingest stream; a command's own (failed, or obeyed again)
            # are its reply's.
            check(s.asset_id for s in signals if s.source != AlarmSource.COMMAND)
            return await apply(session, signals, now)

        monkeypatch.setattr(raising, "apply", broken_apply)
    else:
        publish = EventHub.publish

        def broken_publish(self: EventHub, event: DomainEvent) -> None:
            check([getattr(event, "asset_id", "")])
            publish(self, event)

        monkeypatch.setattr(EventHub, "publish", broken_publish)
    return raised


@pytest.mark.parametrize("who", ["one", "all"])
# The vehicles' stage follows positions, which lights never send: test_vehicles.py has it.
@pytest.mark.parametrize("stage", [s for s in Stage if s is not Stage.VEHICLES])
async def test_a_failing_follow_up_stage_stores_the_batch_all_the_same(
    stage: Stage, who: str, runtime: Runtime, system: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = frozenset(LIGHTS[:1] if who == "one" else LIGHTS)
    async with gateway_ingest(runtime, system) as site:
        before = failures(stage)
        subscription = runtime.events.subscribe()
        raised = break_stage(monkeypatch, stage, bad)
        await site.send(batch_for(site))
        site.events.extend(subscription.take())
        subscription.close()

        for light in LIGHTS:
            expected = dataclasses.replace(HEALTHY, **(BROKEN[stage] if light in bad else {}))
            assert await facts(site, light) == expected, light
        assert site.pipeline.rejected == 0
        async with runtime.db.read() as session:
            assert await session.scalar(select(func.count()).select_from(RejectedMessage)) == 0
        # One per light whose follow-up was given up (per event, for the events).
        lost = len(raised) if stage is Stage.EVENTS else len(bad)
        assert lost >= len(bad)
        assert failures(stage) - before == lost

        # The loop goes on, the stage still broken: readings are still stored.
        ts = utcnow().isoformat()
        await site.send(
            [
                (light_topic(light, "telemetry"), {"ts": ts, "values": {"power_w": 20}})
                for light in LIGHTS
            ]
        )
        for light in LIGHTS:
            assert (await facts(site, light)).latest["power_w"] == 20.0


async def test_a_command_its_verification_cannot_judge_stops_no_telemetry(
    runtime: Runtime, system: Context, tmp_path: Path
) -> None:
    """The reported case: a dim stored with ``level_pct`` null (the API refuses it now; here
    it is written straight into the table), sent and carried out, then awaiting its
    verification while the light's telemetry flows: through a real broker and gateway,
    every reading is stored, none rejected, and the light's other commands are followed
    up as usual."""
    async with hub("mosquitto", runtime, system, tmp_path) as h:
        light = h.light()
        await light.connect()
        try:
            await light.online()
            now = utcnow()
            poisoned = uuid.uuid4().hex
            async with runtime.db.write() as session:
                session.add(
                    Command(
                        id=poisoned,
                        batch_id=None,
                        asset_id=light.device_id,
                        asset_type="streetlight",
                        commune_code="talant",
                        name="dim",
                        params={"level_pct": None},
                        critical=False,
                        reason=None,
                        state="queued",
                        verification="pending",
                        attempts=0,
                        max_attempts=3,
                        timeout_s=30,
                        created_at=now,
                        created_by="tests",
                        created_by_user_id=None,
                        approval_expires_at=None,
                        expires_at=now + timedelta(minutes=10),
                        next_attempt_at=now,
                        updated_at=now,
                    )
                )
            command_id, payload = await light.next_command()
            assert (command_id, payload["params"]) == (poisoned, {"level_pct": None})
            await light.reply(poisoned, "succeeded")
            await wait_for(lambda: h.state_is(poisoned, "succeeded", "pending"))

            before = failures(Stage.VERIFICATION)
            for level in (40.0, 41.0, 42.0):
                await light.report(level_pct=level, power_w=20.0)
                await wait_for(partial(reported, runtime, light.device_id, "level_pct", level))
            async with runtime.db.read() as session:
                stored = await session.scalar(
                    select(func.count())
                    .select_from(TelemetryPoint)
                    .where(TelemetryPoint.asset_id == light.device_id)
                )
                refused = await session.scalar(select(func.count()).select_from(RejectedMessage))
            assert (stored, refused) == (6, 0)
            # Counted and logged once (per distinct parameters), not at every reading.
            assert failures(Stage.VERIFICATION) - before == 1
            assert await h.state_is(poisoned, "succeeded", "pending")

            # The light's next command is verified as usual, and supersedes the other.
            response = await h.command(
                "talant", asset_id=light.device_id, name="dim", params={"level_pct": 50}
            )
            good = response.json()["id"]
            assert (await light.next_command())[0] == good
            await light.reply(good, "succeeded")
            await light.report(level_pct=50.0)
            await wait_for(lambda: h.state_is(good, "succeeded", "verified"))
            assert await h.state_is(poisoned, "succeeded", "superseded")
        finally:
            await light.close()
