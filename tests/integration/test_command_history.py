"""A command's history as its detail shows it: the creation and the first state read from
its row (no transition row is written for them), the moves of a whole batch written
together, and the histories written before, with their first state stored, unchanged."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from beffroi.alarms.lifecycle import COMMAND_FAILED
from beffroi.alarms.models import Alarm
from beffroi.catalogue import Domain
from beffroi.commands import service
from beffroi.commands.models import Command, CommandTransition
from beffroi.commands.schemas import BatchCreate, CommandCreate, CommandDetail, IdsTarget
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import ActorKind, Principal, Role
from tests.support import register_streetlights

pytestmark = pytest.mark.asyncio
LIGHTS = [f"SL-{n}" for n in range(1, 4)]


def _person(runtime: Runtime, name: str, role: Role, user_id: int) -> Context:
    return runtime.context(
        Principal(name, ActorKind.USER, frozenset({role}), frozenset(Domain), None, user_id)
    )


def _steps(detail: CommandDetail) -> list[tuple[str, str, str]]:
    return [(t.state, t.actor, t.actor_kind) for t in detail.transitions]


async def test_a_refused_batch_keeps_each_childs_history_and_raises_its_alarm(
    runtime: Runtime, system: Context
) -> None:
    await register_streetlights(system, LIGHTS)
    strict = Runtime(
        settings=runtime.settings.model_copy(update={"batch_critical_size": 2, "four_eyes": True}),
        db=runtime.db,
        events=runtime.events,
    )
    asker = _person(strict, "asker", Role.ADMIN, 901)
    chief = _person(strict, "chief", Role.SUPERVISOR, 902)
    batch = await service.create_batch(
        asker,
        BatchCreate(
            type="streetlight",
            name="dim",
            params={"level_pct": 30},
            target=IdsTarget(kind="ids", asset_ids=LIGHTS),
            reason="event",
        ),
    )
    assert batch.state == "awaiting_approval"
    async with runtime.db.read() as session:
        stored = await session.scalar(select(CommandTransition.id).limit(1))
    assert stored is None, "creating a batch writes no transition row"
    denied = await service.deny_batch(chief, batch.id, "not tonight")
    assert denied.counts == {"rejected": 3}
    children = await service.batch_children(system, batch.id)
    assert sorted(c.asset_id for c in children.items) == LIGHTS
    for child in children.items:
        detail = await service.get_command(system, child.id)
        assert _steps(detail) == [
            ("created", "asker", "user"),
            ("awaiting_approval", "asker", "user"),
            ("rejected", "chief", "user"),
        ]
        assert detail.transitions[0].at == detail.transitions[1].at == detail.created_at
        assert detail.transitions[2].detail == {"reason": "not tonight"}
        assert detail.verification == "not_applicable"
    async with runtime.db.read() as session:
        raised = await session.execute(
            select(Alarm.asset_id, Alarm.detail).where(Alarm.alarm_type == COMMAND_FAILED)
        )
        by_asset: dict[str, dict[str, str]] = {row.asset_id: row.detail for row in raised}
    assert sorted(by_asset) == LIGHTS
    assert {d["state"] for d in by_asset.values()} == {"rejected"}


async def test_a_command_written_with_its_first_state_stored_shows_it_once(
    system: Context, runtime: Runtime
) -> None:
    await register_streetlights(system, LIGHTS)
    sent = await service.send_command(
        system, CommandCreate(asset_id=LIGHTS[0], name="dim", params={"level_pct": 40})
    )
    assert _steps(await service.get_command(system, sent.id)) == [
        ("created", "tests", "system"),
        ("queued", "tests", "system"),
    ]
    # As versions before the first state was read from the row wrote it.
    async with runtime.db.write() as session:
        created_at = await session.scalar(select(Command.created_at).where(Command.id == sent.id))
        await session.execute(
            insert(CommandTransition).values(
                command_id=sent.id,
                state="queued",
                at=created_at,
                actor="tests",
                actor_kind="system",
                detail=None,
            )
        )
    assert _steps(await service.get_command(system, sent.id)) == [
        ("created", "tests", "system"),
        ("queued", "tests", "system"),
    ]
