"""The lighting area on both databases: programs, calendars and assignments through the
API, why a light is at its level, compiled schedules, commune scope and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from beffroi.core.audit import AuditEntry
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.lighting import service
from tests.integration.test_assets_api import cabinet, light
from tests.support import Person, make_person

pytestmark = pytest.mark.asyncio

API = "/api/v1/lighting"
NIGHT = [
    {"anchor": "sunset", "offset_min": -10, "level_pct": 100, "ramp_s": 60},
    {"anchor": "time", "at": "23:00", "level_pct": 50, "ramp_s": 300},
    {"anchor": "time", "at": "05:00", "level_pct": 100},
    {"anchor": "sunrise", "offset_min": 10, "level_pct": 0},
]
FULL = [{"anchor": "sunset", "level_pct": 100}, {"anchor": "sunrise", "level_pct": 0}]
CHENOVE_POINT = {"type": "Point", "coordinates": [5.006, 47.292]}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _fleet(client: httpx.AsyncClient, admin: Person) -> None:
    h = admin.headers
    ok(await client.post("/api/v1/assets", json=cabinet(), headers=h), 201)
    ok(await client.post("/api/v1/assets", json=light("SL-TAL-1"), headers=h), 201)
    chenove = cabinet("LC-CHE-0001", "chenove", location=CHENOVE_POINT)
    ok(await client.post("/api/v1/assets", json=chenove, headers=h), 201)


async def _library(client: httpx.AsyncClient, admin: Person) -> dict[str, int]:
    h = admin.headers
    night = ok(
        await client.post(f"{API}/programs", json={"name": "Nuit", "steps": NIGHT}, headers=h), 201
    )
    full = ok(
        await client.post(f"{API}/programs", json={"name": "Pleine", "steps": FULL}, headers=h), 201
    )
    body = {
        "name": "Métropole",
        "rules": [
            {
                "kind": "dates",
                "program_id": full["id"],
                "dates": ["2026-12-24"],
                "annual": True,
                "label": "Réveillon",
            },
            {"kind": "holidays", "program_id": full["id"], "holidays": ["national_day"]},
        ],
        "default_program_id": night["id"],
    }
    cal = ok(await client.post(f"{API}/calendars", json=body, headers=h), 201)
    return {"night": night["id"], "full": full["id"], "calendar": cal["id"]}


async def test_why_a_light_is_at_its_level(client: httpx.AsyncClient, admin: Person) -> None:
    await _fleet(client, admin)
    ids = await _library(client, admin)
    h = admin.headers
    r = await client.get(f"{API}/assets/SL-TAL-1/why", headers=h)
    assert ok(r)["assignment"] is None
    default = ok(
        await client.post(
            f"{API}/assignments",
            json={"calendar_id": ids["calendar"], "target": "default"},
            headers=h,
        ),
        201,
    )
    # 00:30 local on the night of 14 to 15 December 2026: the ordinary night, dimmed.
    at = "2026-12-14T23:30:00Z"
    why = ok(await client.get(f"{API}/assets/SL-TAL-1/why", params={"at": at}, headers=h))
    assert why["cabinet_id"] == "LC-TAL-0001"
    assert why["assignment"]["id"] == default["id"]
    assert why["assignment"]["target"] == "default"
    assert why["lighting_day"] == "2026-12-14"
    assert why["rule_index"] is None
    assert why["program"]["id"] == ids["night"]
    assert why["level_pct"] == 50
    assert [s["local_time"] for s in why["steps"]][1:3] == ["23:00", "05:00"]
    assert "metropolis-wide default" in why["explanation"]
    # Christmas Eve, same hour: the first rule, full light all night.
    why = ok(
        await client.get(
            f"{API}/assets/SL-TAL-1/why", params={"at": "2026-12-24T23:30:00Z"}, headers=h
        )
    )
    assert (why["rule_index"], why["rule"]["label"], why["level_pct"]) == (0, "Réveillon", 100)
    # Talant gets a calendar of its own: the commune beats the default, the cabinet both.
    talant = ok(
        await client.post(
            f"{API}/calendars",
            json={"name": "Talant", "commune": "talant", "default_program_id": ids["full"]},
            headers=h,
        ),
        201,
    )
    body = {"calendar_id": talant["id"], "target": "commune", "commune": "Talant"}
    by_commune = ok(await client.post(f"{API}/assignments", json=body, headers=h), 201)
    why = ok(await client.get(f"{API}/assets/SL-TAL-1/why", params={"at": at}, headers=h))
    assert (why["assignment"]["id"], why["level_pct"]) == (by_commune["id"], 100)
    body = {"calendar_id": ids["calendar"], "target": "cabinet", "cabinet_id": "LC-TAL-0001"}
    own = ok(await client.post(f"{API}/assignments", json=body, headers=h), 201)
    why = ok(await client.get(f"{API}/assets/LC-TAL-0001/why", params={"at": at}, headers=h))
    assert (why["assignment"]["target"], why["level_pct"]) == ("cabinet", 50)
    assert own["commune"] == "talant"
    # One assignment per target.
    r = await client.post(f"{API}/assignments", json=body, headers=h)
    assert r.status_code == 409
    # A calendar of Talant cannot serve a target elsewhere.
    body = {"calendar_id": talant["id"], "target": "cabinet", "cabinet_id": "LC-CHE-0001"}
    r = await client.post(f"{API}/assignments", json=body, headers=h)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "calendar_id"


async def test_bad_programs_and_calendars_are_refused_naming_the_field(
    client: httpx.AsyncClient, admin: Person
) -> None:
    h = admin.headers
    steps = [*NIGHT[:2], {"anchor": "time", "at": "02:00", "level_pct": 120}]
    r = await client.post(f"{API}/programs", json={"name": "x", "steps": steps}, headers=h)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["steps.2.level_pct"]
    # In order on paper, not in June: 21:00 comes before sunset then.
    steps = [
        {"anchor": "sunset", "level_pct": 100},
        {"anchor": "time", "at": "21:00", "level_pct": 50},
    ]
    r = await client.post(f"{API}/programs", json={"name": "x", "steps": steps}, headers=h)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "steps.1.at"
    ramp = [
        {**NIGHT[0]},
        {**NIGHT[1], "at": "23:00"},
        {"anchor": "time", "at": "23:02", "level_pct": 10},
    ]
    r = await client.post(f"{API}/programs", json={"name": "x", "steps": ramp}, headers=h)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "steps.1.ramp_s"
    ids = await _library(client, admin)
    rules = [{"kind": "holidays", "program_id": ids["full"], "holidays": ["fete_du_slip"]}]
    body = {"name": "y", "rules": rules, "default_program_id": ids["night"]}
    r = await client.post(f"{API}/calendars", json=body, headers=h)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "rules.0.holidays"
    body = {"name": "y", "rules": [], "default_program_id": 999}
    r = await client.post(f"{API}/calendars", json=body, headers=h)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "default_program_id"
    # A program named by a calendar stays.
    assert (await client.delete(f"{API}/programs/{ids['full']}", headers=h)).status_code == 409


async def test_versions_refuse_lost_updates(client: httpx.AsyncClient, admin: Person) -> None:
    h = admin.headers
    ids = await _library(client, admin)
    url = f"{API}/programs/{ids['night']}"
    changed = ok(await client.patch(url, json={"version": 1, "description": "hiver"}, headers=h))
    assert changed["version"] == 2
    r = await client.patch(url, json={"version": 1, "steps": FULL}, headers=h)
    assert r.status_code == 409
    assert r.json()["current_version"] == 2
    url = f"{API}/calendars/{ids['calendar']}"
    changed = ok(await client.patch(url, json={"version": 1, "rules": []}, headers=h))
    assert (changed["version"], changed["rules"]) == (2, [])
    assert (await client.patch(url, json={"version": 1, "rules": []}, headers=h)).status_code == 409


async def test_a_talant_supervisor_cannot_program_chenove(
    client: httpx.AsyncClient, admin: Person, system: Context, runtime: Runtime
) -> None:
    await _fleet(client, admin)
    ids = await _library(client, admin)
    sup = await make_person(system, "sup-talant", [Role.SUPERVISOR], communes=["talant"])
    h = sup.headers
    refused = [
        {"calendar_id": ids["calendar"], "target": "cabinet", "cabinet_id": "LC-CHE-0001"},
        {"calendar_id": ids["calendar"], "target": "commune", "commune": "chenove"},
        {"calendar_id": ids["calendar"], "target": "default"},
    ]
    statuses = [
        (await client.post(f"{API}/assignments", json=body, headers=h)).status_code
        for body in refused
    ]
    # A Chenôve cabinet is unknown to them (422 naming it, as for any unknown cabinet);
    # Chenôve and the metropolis are outside their scope (403).
    assert statuses == [422, 403, 403]
    # Metropolis-wide programs are theirs to read and use, not to change.
    assert len(ok(await client.get(f"{API}/programs", headers=h))) == 2
    r = await client.patch(f"{API}/programs/{ids['night']}", json={"version": 1}, headers=h)
    assert r.status_code == 403
    r = await client.post(
        f"{API}/programs", json={"name": "Chenôve", "commune": "chenove", "steps": FULL}, headers=h
    )
    assert r.status_code == 403
    # Within Talant they program freely.
    own = ok(
        await client.post(
            f"{API}/calendars",
            json={"name": "Talant", "commune": "talant", "default_program_id": ids["night"]},
            headers=h,
        ),
        201,
    )
    body = {"calendar_id": own["id"], "target": "cabinet", "cabinet_id": "LC-TAL-0001"}
    ok(await client.post(f"{API}/assignments", json=body, headers=h), 201)
    # An admin's Chenôve calendar stays hidden from them.
    chenove = ok(
        await client.post(
            f"{API}/calendars",
            json={"name": "Chenôve", "commune": "chenove", "default_program_id": ids["full"]},
            headers=admin.headers,
        ),
        201,
    )
    assert (await client.get(f"{API}/calendars/{chenove['id']}", headers=h)).status_code == 404
    assert chenove["id"] not in [
        c["id"] for c in ok(await client.get(f"{API}/calendars", headers=h))
    ]
    assert (await client.get(f"{API}/assets/LC-CHE-0001/why", headers=h)).status_code == 404
    async with runtime.db.read() as session:
        audited = [
            tuple(row)
            for row in await session.execute(
                select(AuditEntry.action, AuditEntry.actor, AuditEntry.outcome).order_by(
                    AuditEntry.seq
                )
            )
        ]
    mine = [(a, o) for a, who, o in audited if who == "sup-talant"]
    assert mine.count(("lighting_assignment.create.refused", "denied")) == 3
    assert ("lighting_program.update.refused", "denied") in mine
    assert ("lighting_calendar.create", "success") in mine
    assert ("lighting_assignment.create", "success") in mine


async def test_each_change_is_audited(
    client: httpx.AsyncClient, admin: Person, runtime: Runtime
) -> None:
    await _fleet(client, admin)
    ids = await _library(client, admin)
    h = admin.headers
    body = {"calendar_id": ids["calendar"], "target": "default"}
    assignment = ok(await client.post(f"{API}/assignments", json=body, headers=h), 201)
    url = f"{API}/assignments/{assignment['id']}"
    ok(await client.patch(url, json={"calendar_id": ids["calendar"]}, headers=h))
    assert (await client.delete(url, headers=h)).status_code == 204
    assert (await client.delete(f"{API}/calendars/{ids['calendar']}", headers=h)).status_code == 204
    assert (await client.delete(f"{API}/programs/{ids['full']}", headers=h)).status_code == 204
    async with runtime.db.read() as session:
        rows = await session.execute(
            select(AuditEntry.action, AuditEntry.target_id)
            .where(AuditEntry.action.like("lighting%"))
            .order_by(AuditEntry.seq)
        )
        audited = [tuple(r) for r in rows]
    assert audited == [
        ("lighting_program.create", str(ids["night"])),
        ("lighting_program.create", str(ids["full"])),
        ("lighting_calendar.create", str(ids["calendar"])),
        ("lighting_assignment.create", str(assignment["id"])),
        ("lighting_assignment.update", str(assignment["id"])),
        ("lighting_assignment.delete", str(assignment["id"])),
        ("lighting_calendar.delete", str(ids["calendar"])),
        ("lighting_program.delete", str(ids["full"])),
    ]


async def test_schedule_versions_move_only_when_the_content_does(
    client: httpx.AsyncClient, admin: Person, system: Context
) -> None:
    await _fleet(client, admin)
    ids = await _library(client, admin)
    h = admin.headers
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    # No calendar yet: each cabinet gets a schedule saying so.
    assert await service.compile_schedules(system, now=now) == ["LC-CHE-0001", "LC-TAL-0001"]
    assert await service.compile_schedules(system, now=now) == []
    body = {"calendar_id": ids["calendar"], "target": "commune", "commune": "talant"}
    ok(await client.post(f"{API}/assignments", json=body, headers=h), 201)
    assert await service.compile_schedules(system, now=now) == ["LC-TAL-0001"]
    schedule = ok(await client.get(f"{API}/schedules/LC-TAL-0001", headers=h))
    document = schedule["document"]
    assert (schedule["version"], document["version"]) == (2, 2)
    assert document["timezone"] == "Europe/Paris"
    assert document["position"] == {"lat": 47.337, "lon": 5.005}
    assert document["calendar"]["default_program_id"] == ids["night"]
    assert document["programs"][str(ids["night"])]["steps"][0]["anchor"] == "sunset"
    assert document["calendar"]["rules"][1]["dates"] == ["2026-07-14", "2027-07-14"]
    # A change of name only is not a change of schedule; a change of steps is.
    url = f"{API}/programs/{ids['night']}"
    ok(await client.patch(url, json={"version": 1, "name": "Nuit d'hiver"}, headers=h))
    assert await service.compile_schedules(system, now=now) == []
    ok(await client.patch(url, json={"version": 2, "steps": FULL}, headers=h))
    assert await service.compile_schedules(system, ["LC-CHE-0001"], now=now) == []
    assert await service.compile_schedules(system, now=now) == ["LC-TAL-0001"]
    summaries = ok(await client.get(f"{API}/schedules", headers=h))
    assert [(s["cabinet_id"], s["version"]) for s in summaries] == [
        ("LC-CHE-0001", 1),
        ("LC-TAL-0001", 3),
    ]
    # The year turning brings next year's holidays: a new version, once.
    later = datetime(2027, 1, 2, 12, tzinfo=UTC)
    assert await service.compile_schedules(system, now=later) == ["LC-TAL-0001"]
    assert await service.compile_schedules(system, now=later) == []
    # Through the API, at the real time: a second compilation in a row changes nothing.
    ok(await client.post(f"{API}/schedules/compile", headers=h))
    assert ok(await client.post(f"{API}/schedules/compile", headers=h)) == {"changed": []}
