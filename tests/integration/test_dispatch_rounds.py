"""Rounds of sends written two at a time on PostgreSQL (the next one claimed while the
last one is written): every command is sent once, and the rounds publish in the order
they were claimed, so a device's commands leave in order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from beffroi.commands import dispatcher as dispatching
from beffroi.commands import service
from beffroi.commands.dispatcher import CommandDispatcher
from beffroi.commands.models import Command, CommandTransition
from beffroi.commands.schemas import CommandCreate
from beffroi.commands.tracker import CommandTracker
from beffroi.core.context import Context, Runtime
from beffroi.core.time import utcnow
from beffroi.telemetry.models import DeviceStatus
from tests.support import register_streetlights

pytestmark = pytest.mark.asyncio
ROOT = "beffroi/v1"
LIGHTS = [f"SL-{n}" for n in range(1, 6)]


async def test_rounds_send_each_command_once_and_publish_in_claim_order(
    runtime: Runtime, system: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatching, "ROUND_LIMIT", 2)
    await register_streetlights(system, LIGHTS)
    async with runtime.db.write() as session:
        for light in LIGHTS:
            session.add(DeviceStatus(asset_id=light, online=True, since=utcnow(), reason="status"))
    # Two commands to the first light: the second must not overtake the first.
    targets = [LIGHTS[0], *LIGHTS, LIGHTS[0]]
    queued = []
    for light in targets:
        out = await service.send_command(
            system, CommandCreate(asset_id=light, name="dim", params={"level_pct": 40})
        )
        queued.append(out.id)
    published: list[str] = []
    dispatcher = CommandDispatcher(
        runtime.db,
        runtime.events,
        lambda topic, _payload: published.append(topic.rsplit("/", 1)[-1]),
        CommandTracker(root=ROOT, verify_window=timedelta(minutes=1)),
        root=ROOT,
    )
    assert await dispatcher.drain() == len(queued)
    assert published == queued
    assert await dispatcher.drain() == 0, "nothing is sent twice"
    async with runtime.db.read() as session:
        states = await session.execute(
            select(Command.state, Command.attempts, func.count()).group_by(
                Command.state, Command.attempts
            )
        )
        assert [tuple(r) for r in states] == [("sent", 1, len(queued))]
        sent = await session.scalar(select(func.count()).where(CommandTransition.state == "sent"))
        assert sent == len(queued)
