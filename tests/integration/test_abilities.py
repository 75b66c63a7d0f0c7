"""What ``GET /auth/me`` tells the console a person may do is what the services accept.

For every role, the permissions, domains and commands reported are checked against the
answer of the API itself: approving a critical command, commenting on alarms of two
domains, sending every command of the catalogue. The console shows what /auth/me reports
(tests/browser checks that), so a gap here is a tab or a button the API then refuses.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from beffroi.alarms import raising
from beffroi.alarms.lifecycle import AlarmSource
from beffroi.alarms.models import Alarm
from beffroi.alarms.signals import AlarmSignal
from beffroi.assets import importing
from beffroi.catalogue import CATALOGUE, Domain
from beffroi.commands.schemas import CommandCreate
from beffroi.commands.service import send_command
from beffroi.core.context import Context
from beffroi.core.principal import Permission, Role
from beffroi.core.time import utcnow
from beffroi.simulator.fleet import generate_fleet
from tests.support import Person, make_person

API = "/api/v1"

# Every role alone; an operator needs domains, and is given lighting only.
PEOPLE: dict[str, tuple[list[Role], list[Domain] | None]] = {
    **{role.value: ([role], None) for role in Role if role is not Role.OPERATOR},
    "operator": ([Role.OPERATOR], [Domain.LIGHTING]),
}


async def _one_of_each_type(system: Context) -> dict[str, str]:
    """A small fleet with an asset of every type that obeys commands: type → asset id."""
    fleet = generate_fleet("dijon", scale=0.05, seed=1)
    wanted = {key for key in CATALOGUE if CATALOGUE[key].commands}
    chosen: dict[str, str] = {}
    items = []
    for item in fleet:
        if item.type in wanted and item.type not in chosen:
            chosen[item.type] = item.id
            items.append(item.model_copy(update={"parent_id": None}))
    assert set(chosen) == wanted, wanted - set(chosen)
    report = await importing.import_assets(system, list(enumerate(items, 1)), source="tests")
    assert not report.errors, report.errors
    return chosen


async def _me(client: httpx.AsyncClient, person: Person) -> dict[str, Any]:
    answer = await client.get(f"{API}/auth/me", headers=person.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


@pytest.fixture(params=sorted(PEOPLE))
async def person(system: Context, request: pytest.FixtureRequest) -> tuple[str, Person]:
    """One person of each kind in turn: what they are, and their token."""
    who: str = request.param
    roles, domains = PEOPLE[who]
    return who, await make_person(system, f"p-{who}".replace("_", "-"), roles, None, domains)


async def test_approving_is_offered_exactly_to_who_may_approve(
    client: httpx.AsyncClient, system: Context, person: tuple[str, Person]
) -> None:
    who, someone = person
    assets = await _one_of_each_type(system)
    me = await _me(client, someone)
    # A critical command asked by someone else (the system), waiting for a second person.
    held = await send_command(
        system,
        CommandCreate(asset_id=assets["bollard"], name="lower", reason="a delivery"),
    )
    assert held.state == "awaiting_approval"
    answer = await client.post(
        f"{API}/commands/{held.id}/approve", headers=someone.headers, json={}
    )
    offered = Permission.COMMAND_APPROVE.value in me["permissions"]
    assert answer.status_code == (200 if offered else 403), answer.text
    # Separation of duties: approving is a supervisor's, not an administrator's.
    assert offered is (who == "supervisor")


async def test_alarms_are_handled_in_the_domains_reported(
    client: httpx.AsyncClient, system: Context, person: tuple[str, Person]
) -> None:
    _, someone = person
    assets = await _one_of_each_type(system)
    now = utcnow()
    raised = [
        AlarmSignal(assets["streetlight"], "lampFailure", True, now, AlarmSource.DEVICE),
        AlarmSignal(assets["traffic_controller"], "hardwareFault", True, now, AlarmSource.DEVICE),
    ]
    async with system.db.write() as session:
        await raising.apply(session, raised, now)
    async with system.db.read() as session:
        alarms = (await session.execute(select(Alarm.id, Alarm.domain))).all()
    assert {a.domain for a in alarms} == {"lighting", "traffic"}
    me = await _me(client, someone)
    for alarm in alarms:
        answer = await client.post(
            f"{API}/alarms/{alarm.id}/comments", headers=someone.headers, json={"text": "seen"}
        )
        offered = Permission.ALARM_HANDLE.value in me["permissions"] and (
            alarm.domain in me["work_domains"]
        )
        assert answer.status_code == (200 if offered else 403), (alarm.domain, answer.text)


async def test_the_commands_reported_are_the_commands_accepted(
    client: httpx.AsyncClient, system: Context, person: tuple[str, Person]
) -> None:
    _, someone = person
    assets = await _one_of_each_type(system)
    me = await _me(client, someone)
    for asset_type, asset_id in assets.items():
        for spec in CATALOGUE[asset_type].commands:
            # No parameters: refused (403) or, once allowed, at most a bad field (422).
            answer = await client.post(
                f"{API}/commands",
                headers=someone.headers,
                json={"asset_id": asset_id, "name": spec.name},
            )
            offered = spec.name in me["commands"].get(asset_type, [])
            # A camera does not exist for whoever may not see cameras: not found, not
            # forbidden (docs/security.md, camera visibility).
            hidden = asset_type == "camera" and "video:see" not in me["permissions"]
            refused = answer.status_code in ({403, 404} if hidden else {403})
            assert refused is not offered, (asset_type, spec.name, answer.text)
