"""The traffic API on both databases: configurations and plans validated (conflicting
greens and short intergreens refused, naming the groups), timetables versioned as plans
change, plans imposed by hand ending by themselves, corridors applied as one command
batch, scope and domain (a lighting operator cannot change a plan), the audit log."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from beffroi.commands.models import Command, CommandBatch
from beffroi.core.audit import AuditEntry
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.core.vocabulary import Domain
from beffroi.traffic import jobs
from beffroi.traffic.manual import close_ended
from tests.integration.test_lighting import ok
from tests.integration.traffic_support import API, CONFIG, controllers, plan
from tests.support import Person, make_person

pytestmark = pytest.mark.asyncio

TIMETABLE = {
    "entries": [
        {"days": [1, 2, 3, 4, 5], "start": "00:00", "plan": 1},
        {"days": [1, 2, 3, 4, 5], "start": "07:00", "plan": 2},
        {"days": [6, 7], "start": "00:00", "plan": 1},
    ]
}


async def _configured(client: httpx.AsyncClient, h: dict[str, str], *ids: str) -> None:
    for cid in ids:
        ok(await client.put(f"{API}/controllers/{cid}/config", json=CONFIG, headers=h))
        ok(await client.put(f"{API}/controllers/{cid}/plans/1", json=plan(1, 40, 30), headers=h))
        ok(await client.put(f"{API}/controllers/{cid}/plans/2", json=plan(2, 50, 40), headers=h))


async def _actions(runtime: Runtime, prefix: str) -> list[str]:
    async with runtime.db.read() as session:
        rows = await session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like(f"{prefix}%"))
        )
        return list(rows)


async def test_plans_are_validated_and_timetables_follow_them(
    client: httpx.AsyncClient, admin: Person, system: Context, runtime: Runtime
) -> None:
    h = admin.headers
    await controllers(system, "TC-TAL-1")
    url = f"{API}/controllers/TC-TAL-1"
    # No plan before a configuration; a configuration with a conflicting stage refused.
    assert (await client.put(f"{url}/plans/1", json=plan(1, 40, 30), headers=h)).status_code == 409
    bad = {**CONFIG, "stages": [*CONFIG["stages"], {"name": "X", "groups": ["K1", "K2"]}]}
    refused = ok(await client.put(f"{url}/config", json=bad, headers=h), 422)
    assert "stage X: K1 and K2 conflict" in refused["detail"]
    assert ok(await client.put(f"{url}/config", json=CONFIG, headers=h))["version"] == 1

    # Conflicting greens and a short intergreen: refused, naming stages, groups, seconds.
    config2 = {
        **CONFIG,
        "version": 1,
        "stages": [*CONFIG["stages"], {"name": "S3", "groups": ["K1"]}],
    }
    ok(await client.put(f"{url}/config", json=config2, headers=h))
    short = ok(await client.put(f"{url}/plans/1", json=plan(1, 6, 60), headers=h), 422)
    assert "the change to S2 needs 7 s (P2 -> K2 intergreen)" in short["detail"]
    assert short["errors"][0]["field"] == "stages[0].split_s"
    unbalanced = {**plan(1, 40, 30), "cycle_s": 80}
    assert (
        "add up to 70 s but the cycle is 80 s"
        in ok(await client.put(f"{url}/plans/1", json=unbalanced, headers=h), 422)["detail"]
    )
    check = ok(await client.post(f"{url}/plans/check", json=plan(1, 16, 60), headers=h))
    assert check["valid"] is False
    assert check["problems"][0]["message"] == "stage S1: K1 gets 9 s of green, its minimum is 10 s"
    assert ok(await client.get(f"{url}/plans", headers=h)) == []

    ok(await client.put(f"{url}/plans/1", json=plan(1, 40, 30), headers=h))
    ok(await client.put(f"{url}/plans/2", json=plan(2, 50, 40, name="peak"), headers=h))
    # The path and the body must name the same plan.
    assert (await client.put(f"{url}/plans/3", json=plan(2, 50, 40), headers=h)).status_code == 422

    # A timetable naming a plan the controller lacks is refused; a sound one is version 1.
    wrong = {"entries": [{"days": [1], "start": "00:00", "plan": 7}]}
    assert (
        "no valid plan 7"
        in ok(await client.put(f"{url}/timetable", json=wrong, headers=h), 422)["detail"]
    )
    table = ok(await client.put(f"{url}/timetable", json=TIMETABLE, headers=h))
    assert (table["version"], table["behind"], table["acked_version"]) == (1, True, None)
    assert table["plan_now"] in (1, 2)
    # Changing a plan it names makes version 2; the same content again changes nothing.
    ok(await client.put(f"{url}/plans/2", json=plan(2, 55, 35, version=1), headers=h))
    assert ok(await client.get(f"{url}/timetable", headers=h))["version"] == 2
    assert ok(await client.put(f"{url}/timetable", json=TIMETABLE, headers=h))["version"] == 2
    # A stale version is refused; a plan in use cannot be deleted, a plan only reachable
    # when the configuration changes would break is refused too.
    stale = plan(2, 50, 40, version=1)
    assert (await client.put(f"{url}/plans/2", json=stale, headers=h)).status_code == 409
    assert (await client.delete(f"{url}/plans/2", headers=h)).status_code == 409
    harsher = {
        **CONFIG,
        "version": 2,
        "groups": [{**CONFIG["groups"][0], "min_green_s": 40}, *CONFIG["groups"][1:]],
    }
    broke = ok(await client.put(f"{url}/config", json=harsher, headers=h), 422)
    assert "stored plans would become invalid" in broke["detail"]

    listed = ok(await client.get(f"{API}/controllers", headers=h))
    assert listed[0]["plans"] == [1, 2]
    assert (listed[0]["timetable_version"], listed[0]["behind"]) == (2, True)
    assert [
        t["controller_id"] for t in ok(await client.get(f"{API}/timetables?behind=true", headers=h))
    ] == ["TC-TAL-1"]
    assert await jobs.timetables_due(system) == 1
    assert "traffic_plan.put.refused" in await _actions(runtime, "traffic_plan")
    assert (await _actions(runtime, "traffic_timetable.put")).count("traffic_timetable.put") == 2


async def test_scope_and_domain(client: httpx.AsyncClient, admin: Person, system: Context) -> None:
    await controllers(system, "TC-TAL-1", "TC-CHE-1")
    await _configured(client, admin.headers, "TC-TAL-1", "TC-CHE-1")
    lighting = await make_person(system, "lucie", [Role.OPERATOR], domains=[Domain.LIGHTING])
    traffic = await make_person(system, "tom", [Role.OPERATOR], domains=[Domain.TRAFFIC])
    lit_boss = await make_person(system, "lea", [Role.SUPERVISOR], communes=["talant"])
    body = plan(1, 45, 25, version=1)
    url = f"{API}/controllers/TC-TAL-1"
    # Operators read plans but write none; a lighting operator imposes none either.
    assert len(ok(await client.get(f"{url}/plans", headers=lighting.headers))) == 2
    for person in (lighting, traffic):
        r = await client.put(f"{url}/plans/1", json=body, headers=person.headers)
        assert r.status_code == 403
    end = (utcnow() + timedelta(hours=1)).astimezone(UTC).isoformat()
    manual = {"plan": 2, "ends_at": end, "reason": "Match au stade"}
    r = await client.post(f"{url}/manual-plan", json=manual, headers=lighting.headers)
    assert r.status_code == 403
    ok(await client.post(f"{url}/manual-plan", json=manual, headers=traffic.headers), 201)
    # A Talant supervisor writes Talant's plans; Chenôve's controller does not exist for them.
    ok(await client.put(f"{url}/plans/1", json=body, headers=lit_boss.headers))
    other = f"{API}/controllers/TC-CHE-1"
    assert (await client.get(f"{other}/plans", headers=lit_boss.headers)).status_code == 404
    r = await client.put(f"{other}/plans/1", json=body, headers=lit_boss.headers)
    assert r.status_code == 404
    ids = [
        c["controller_id"]
        for c in ok(await client.get(f"{API}/controllers", headers=lit_boss.headers))
    ]
    assert ids == ["TC-TAL-1"]
    # A corridor spanning both communes is the metropolis's: not theirs to create.
    corridor = {
        "name": "Across",
        "members": [{"controller_id": "TC-TAL-1"}, {"controller_id": "TC-CHE-1"}],
        "speed_kmh": 50,
        "cycle_s": 70,
        "plan": 1,
    }
    r = await client.post(f"{API}/corridors", json=corridor, headers=lit_boss.headers)
    assert r.status_code == 404  # Chenôve's controller is out of their sight


async def test_a_plan_imposed_by_hand_ends_by_itself(
    client: httpx.AsyncClient, admin: Person, system: Context, runtime: Runtime
) -> None:
    h = admin.headers
    await controllers(system, "TC-TAL-1")
    await _configured(client, h, "TC-TAL-1")
    url = f"{API}/controllers/TC-TAL-1/manual-plan"
    soon = utcnow() + timedelta(minutes=30)
    body: dict[str, Any] = {"plan": 2, "ends_at": soon.isoformat(), "reason": "Accident"}
    assert (
        "no valid plan 9"
        in ok(await client.post(url, json={**body, "plan": 9}, headers=h), 422)["detail"]
    )
    past = {**body, "ends_at": (utcnow() - timedelta(minutes=1)).isoformat()}
    assert (await client.post(url, json=past, headers=h)).status_code == 422
    naive = {**body, "ends_at": soon.replace(tzinfo=None).isoformat()}
    assert (await client.post(url, json=naive, headers=h)).status_code == 422
    selection = ok(await client.post(url, json=body, headers=h), 201)
    assert selection["active"] is True
    async with runtime.db.read() as session:
        command = await session.get(Command, selection["command_id"])
        assert command is not None
        assert command.name == "set_plan"
        assert command.params["plan"] == 2
        assert command.params["until"].startswith(soon.isoformat()[:16])
    assert ok(await client.get(f"{API}/controllers", headers=h))[0]["manual_plan"] == 2
    # Nothing ends before its time; at its end the job notes it, once.
    assert await close_ended(system) == []
    assert await close_ended(system, now=soon + timedelta(seconds=1)) == [selection["id"]]
    assert await close_ended(system, now=soon + timedelta(minutes=5)) == []
    (ended,) = ok(await client.get(f"{API}/manual-plans", headers=h))
    assert ended["ended_by"] == "expiry"
    assert "traffic_manual_plan.expire" in await _actions(runtime, "traffic_manual_plan")
    # Ending one early sends resume_timetable.
    again = ok(await client.post(url, json=body, headers=h), 201)
    done = ok(await client.post(f"{API}/manual-plans/{again['id']}/end?reason=Cleared", headers=h))
    assert done["active"] is False
    r = await client.post(f"{API}/manual-plans/{again['id']}/end?reason=Again", headers=h)
    assert r.status_code == 409


async def test_a_corridor_is_applied_as_one_batch(
    client: httpx.AsyncClient, admin: Person, system: Context, runtime: Runtime
) -> None:
    h = admin.headers
    await controllers(system, "TC-TAL-1", "TC-TAL-2", "TC-TAL-3")
    await _configured(client, h, "TC-TAL-1", "TC-TAL-2", "TC-TAL-3")
    body: dict[str, Any] = {
        "name": "Avenue du Drapeau",
        "members": [
            {"controller_id": "TC-TAL-1"},
            {"controller_id": "TC-TAL-2"},
            {"controller_id": "TC-TAL-3", "distance_m": 500},
        ],
        "speed_kmh": 50,
        "cycle_s": 70,
        "plan": 1,
    }
    twice = {**body, "members": [body["members"][0], body["members"][0]]}
    assert (await client.post(f"{API}/corridors", json=twice, headers=h)).status_code == 422
    corridor = ok(await client.post(f"{API}/corridors", json=body, headers=h), 201)
    offsets = corridor["offsets"]
    # About 302 m from the first (geodesic), then 500 m as measured: 22 s, then 58 s.
    assert 295 < offsets[1]["distance_m"] < 310
    assert [o["offset_s"] for o in offsets] == [0, 22, 58]
    assert corridor["commune_code"] == "talant"
    assert (await client.post(f"{API}/corridors", json=body, headers=h)).status_code == 409

    applied = ok(
        await client.post(
            f"{API}/corridors/{corridor['id']}/apply", json={"reason": "Soirée"}, headers=h
        )
    )
    async with runtime.db.read() as session:
        batch = await session.get(CommandBatch, applied["applied_batch_id"])
        assert batch is not None
        assert (batch.name, batch.total) == ("apply_green_wave", 3)
        assert batch.params["offsets"] == {"TC-TAL-1": 0, "TC-TAL-2": 22, "TC-TAL-3": 58}
    # A corridor whose cycle the controllers' plan does not run is refused, naming them.
    changed = {**body, "cycle_s": 90, "version": 1}
    ok(await client.put(f"{API}/corridors/{corridor['id']}", json=changed, headers=h))
    refused = ok(
        await client.post(
            f"{API}/corridors/{corridor['id']}/apply", json={"reason": "x"}, headers=h
        ),
        422,
    )
    assert "TC-TAL-1 runs plan 1 on a 70 s cycle, the corridor's is 90 s" in refused["detail"]
    assert "traffic_corridor.apply" in await _actions(runtime, "traffic_corridor")
    assert (await client.delete(f"{API}/corridors/{corridor['id']}", headers=h)).status_code == 204
