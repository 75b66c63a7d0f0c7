"""Lighting overrides on both databases: the most recent wins, they reach the cabinets'
schedules, end by themselves, need a second person when they put a commune out, stay in
their commune's scope, and refuse bad input naming the field."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from beffroi.core.audit import AuditEntry
from beffroi.core.context import Context, Runtime
from beffroi.core.events import Subscription
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.lighting import service
from beffroi.lighting.events import OverrideChanged, SchedulesCompiled
from beffroi.lighting.override import OverrideState
from beffroi.lighting.overrides import close_ended
from beffroi.lighting.schemas import OverrideCreate
from tests.integration.test_assets_api import light
from tests.integration.test_lighting import API, _fleet, _library, ok
from tests.support import Person, make_person

pytestmark = pytest.mark.asyncio


def _drain(subscription: Subscription) -> list[Any]:
    events = []
    while True:
        try:
            events.append(subscription.get_nowait())
        except asyncio.QueueEmpty:
            return events


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _body(target: str, level: float, hours: float = 2, **extra: Any) -> dict[str, Any]:
    return {
        "target": target,
        "level_pct": level,
        "ends_at": _iso(utcnow() + timedelta(hours=hours)),
        "reason": "Fête des lumières",
        **extra,
    }


async def _overridden(client: httpx.AsyncClient, h: dict[str, str], cabinet: str) -> list[Any]:
    document = ok(await client.get(f"{API}/schedules/{cabinet}", headers=h))["document"]
    return list(document.get("overrides", []))


async def _setup(client: httpx.AsyncClient, admin: Person, system: Context) -> dict[str, int]:
    await _fleet(client, admin)
    ids = await _library(client, admin)
    body = {"calendar_id": ids["calendar"], "target": "default"}
    ok(await client.post(f"{API}/assignments", json=body, headers=admin.headers), 201)
    await service.compile_schedules(system)
    return ids


async def test_the_most_recent_override_wins_and_reaches_the_schedules(
    client: httpx.AsyncClient, admin: Person, system: Context
) -> None:
    await _setup(client, admin, system)
    h = admin.headers
    before = ok(await client.get(f"{API}/schedules/LC-TAL-0001", headers=h))["version"]
    chenove = ok(await client.get(f"{API}/schedules/LC-CHE-0001", headers=h))["version"]
    festival = ok(
        await client.post(
            f"{API}/overrides", json=_body("commune", 80, commune="Talant"), headers=h
        ),
        201,
    )
    assert (festival["state"], festival["author"], festival["critical"]) == (
        "active",
        "admin",
        False,
    )
    assert festival["commune"] == "talant"
    schedule = ok(await client.get(f"{API}/schedules/LC-TAL-0001", headers=h))
    assert schedule["version"] == before + 1
    assert [(o["id"], o["level_pct"], o["lights"]) for o in schedule["document"]["overrides"]] == [
        (festival["id"], 80.0, None)
    ]
    assert schedule["document"]["overrides"][0]["ends_at"].endswith("Z")
    # Chenôve is not reached: its schedule did not move.
    assert ok(await client.get(f"{API}/schedules/LC-CHE-0001", headers=h))["version"] == chenove
    assert await _overridden(client, h, "LC-CHE-0001") == []
    # An accident scene on one light, lit at 100 %, over the festival: the newest wins.
    accident = ok(
        await client.post(
            f"{API}/overrides",
            json={**_body("assets", 100, asset_ids=["SL-TAL-1"]), "reason": "Accident"},
            headers=h,
        ),
        201,
    )
    assert [(o["id"], o["lights"]) for o in await _overridden(client, h, "LC-TAL-0001")] == [
        (festival["id"], None),
        (accident["id"], ["SL-TAL-1"]),
    ]
    why = ok(await client.get(f"{API}/assets/SL-TAL-1/why", headers=h))
    assert why["override"]["id"] == accident["id"]
    assert (why["override"]["reason"], why["override"]["author"]) == ("Accident", "admin")
    assert why["effective_level_pct"] == 100
    assert why["level_pct"] is not None  # the program's, still shown
    assert f"Override #{accident['id']}" in why["explanation"]
    assert "wins over the program" in why["explanation"]
    # The cabinet itself follows the festival, which reaches it whole.
    why = ok(await client.get(f"{API}/assets/LC-TAL-0001/why", headers=h))
    assert (why["override"]["id"], why["effective_level_pct"]) == (festival["id"], 80)
    # Ending the accident now: the festival is back on the light.
    cancelled = ok(
        await client.post(f"{API}/overrides/{accident['id']}/cancel", json={}, headers=h)
    )
    assert (cancelled["state"], cancelled["cancelled_by"]) == ("cancelled", "admin")
    why = ok(await client.get(f"{API}/assets/SL-TAL-1/why", headers=h))
    assert (why["override"]["id"], why["effective_level_pct"]) == (festival["id"], 80)
    assert [o["id"] for o in await _overridden(client, h, "LC-TAL-0001")] == [festival["id"]]
    r = await client.post(f"{API}/overrides/{accident['id']}/cancel", json={}, headers=h)
    assert r.status_code == 409
    active = ok(await client.get(f"{API}/overrides", params={"state": "active"}, headers=h))
    assert [o["id"] for o in active] == [festival["id"]]
    listed = ok(await client.get(f"{API}/overrides", headers=h))
    assert [o["id"] for o in listed] == [accident["id"], festival["id"]]


async def test_an_override_ends_by_itself(
    client: httpx.AsyncClient, admin: Person, system: Context, runtime: Runtime
) -> None:
    await _setup(client, admin, system)
    h = admin.headers
    start = utcnow() + timedelta(minutes=30)
    body = _body("assets", 100, asset_ids=["SL-TAL-1"], starts_at=_iso(start))
    body["ends_at"] = _iso(start + timedelta(hours=1))
    made = ok(await client.post(f"{API}/overrides", json=body, headers=h), 201)
    assert made["state"] == "scheduled"
    ends = datetime.fromisoformat(made["ends_at"])
    # Sent ahead, for the controller to apply and end by itself.
    [sent] = await _overridden(client, h, "LC-TAL-0001")
    assert (sent["starts_at"], sent["lights"]) == (
        start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        ["SL-TAL-1"],
    )
    during = start + timedelta(minutes=10)
    assert (await service.get_override(system, made["id"], now=during)).state == "active"
    why = await service.why(system, "SL-TAL-1", during)
    assert why.override is not None
    assert why.effective_level_pct == 100
    # Past its end it is ended, with nobody touching it, and "why" no longer names it.
    after = ends + timedelta(seconds=1)
    assert (await service.get_override(system, made["id"], now=after)).state == "ended"
    assert [o.id for o in await service.list_overrides(system, now=after)] == [made["id"]]
    assert await service.list_overrides(system, OverrideState.ACTIVE, now=after) == []
    why = await service.why(system, "SL-TAL-1", after)
    assert why.override is None
    assert why.effective_level_pct == why.level_pct
    # The job notes the end once, and prunes it from the schedule.
    version = ok(await client.get(f"{API}/schedules/LC-TAL-0001", headers=h))["version"]
    assert await close_ended(system, now=after) == [made["id"]]
    assert await close_ended(system, now=after) == []
    schedule = ok(await client.get(f"{API}/schedules/LC-TAL-0001", headers=h))
    assert (schedule["version"], schedule["document"].get("overrides")) == (version + 1, None)
    async with runtime.db.read() as session:
        ended = (
            await session.execute(
                select(AuditEntry.details).where(AuditEntry.action == "lighting_override.end")
            )
        ).scalar_one()
    assert ended["overrides"] == [made["id"]]


async def test_lights_out_over_a_commune_needs_a_second_person(
    client: httpx.AsyncClient, admin: Person, system: Context, runtime: Runtime
) -> None:
    await _setup(client, admin, system)
    asker = await make_person(system, "sup-a", [Role.SUPERVISOR], communes=["talant"])
    second = await make_person(system, "sup-b", [Role.SUPERVISOR], communes=["talant"])
    operator = await make_person(system, "op-t", [Role.OPERATOR], communes=["talant"])
    seen = runtime.events.subscribe(OverrideChanged, SchedulesCompiled)
    out = _body("commune", 0, commune="talant")
    asked = ok(await client.post(f"{API}/overrides", json=out, headers=asker.headers), 201)
    assert (asked["state"], asked["critical"]) == ("pending_approval", True)
    assert [(e.override_id, e.state) for e in _drain(seen)] == [(asked["id"], "pending_approval")]
    # Nothing reaches the field while it waits.
    assert await _overridden(client, admin.headers, "LC-TAL-0001") == []
    url = f"{API}/overrides/{asked['id']}"
    # Not by the person who asked, nor by someone without the approve permission (the
    # administrator: separation of duties), nor by an operator.
    for person in (asker, admin, operator):
        r = await client.post(f"{url}/approve", json={}, headers=person.headers)
        assert r.status_code == 403, r.text
    approved = ok(
        await client.post(f"{url}/approve", json={"reason": "vu"}, headers=second.headers)
    )
    assert (approved["state"], approved["decided_by"]) == ("active", "sup-b")
    # Refusals told nobody; the approval tells the hub, and the delivery what to send.
    [compiled, changed] = _drain(seen)
    assert compiled.cabinet_ids == ("LC-TAL-0001",)
    assert (changed.override_id, changed.state, changed.action) == (
        asked["id"],
        "active",
        "approve",
    )
    [sent] = await _overridden(client, admin.headers, "LC-TAL-0001")
    assert (sent["id"], sent["level_pct"], sent["lights"]) == (asked["id"], 0.0, None)
    assert (await client.post(f"{url}/approve", json={}, headers=second.headers)).status_code == 409
    # A refusal needs a reason; a refused override never applies.
    again = ok(await client.post(f"{API}/overrides", json=out, headers=asker.headers), 201)
    url = f"{API}/overrides/{again['id']}"
    r = await client.post(f"{url}/refuse", json={}, headers=second.headers)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "reason")
    refused = ok(await client.post(f"{url}/refuse", json={"reason": "non"}, headers=second.headers))
    assert refused["state"] == "refused"
    assert [o["id"] for o in await _overridden(client, admin.headers, "LC-TAL-0001")] == [
        asked["id"]
    ]
    # One light out is no commune out: it applies at once.
    one = _body("assets", 0, asset_ids=["SL-TAL-1"])
    assert (
        ok(await client.post(f"{API}/overrides", json=one, headers=asker.headers), 201)["state"]
        == "active"
    )
    async with runtime.db.read() as session:
        rows = await session.execute(
            select(AuditEntry.action, AuditEntry.actor)
            .where(AuditEntry.action.like("lighting_override.approve%"))
            .order_by(AuditEntry.seq)
        )
        audited = [tuple(r) for r in rows]
    assert audited == [
        ("lighting_override.approve.refused", "sup-a"),
        ("lighting_override.approve.refused", "admin"),
        ("lighting_override.approve.refused", "op-t"),
        ("lighting_override.approve", "sup-b"),
        ("lighting_override.approve.refused", "sup-b"),
    ]


async def test_without_four_eyes_a_commune_goes_out_at_once(
    client: httpx.AsyncClient, admin: Person, system: Context, runtime: Runtime
) -> None:
    await _setup(client, admin, system)
    relaxed = Runtime(
        settings=runtime.settings.model_copy(update={"four_eyes": False}),
        db=runtime.db,
        events=runtime.events,
    )
    made = await service.create_override(
        relaxed.system_context("tests"),
        OverrideCreate.model_validate(_body("commune", 0, commune="talant")),
    )
    assert (made.state, made.critical) == ("active", True)
    [sent] = await _overridden(client, admin.headers, "LC-TAL-0001")
    assert (sent["id"], sent["level_pct"]) == (made.id, 0.0)


async def test_a_talant_supervisor_cannot_override_chenove(
    client: httpx.AsyncClient, admin: Person, system: Context
) -> None:
    await _setup(client, admin, system)
    sup = await make_person(system, "sup-talant", [Role.SUPERVISOR], communes=["talant"])
    h = sup.headers
    r = await client.post(
        f"{API}/overrides", json=_body("commune", 100, commune="chenove"), headers=h
    )
    assert r.status_code == 403
    r = await client.post(f"{API}/overrides", json=_body("metropolis", 100), headers=h)
    assert r.status_code == 403
    body = _body("assets", 100, asset_ids=["SL-TAL-1", "LC-CHE-0001"])
    r = await client.post(f"{API}/overrides", json=body, headers=h)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["asset_ids.1"]
    # The admin's Chenôve override stays out of their sight and reach.
    theirs = ok(
        await client.post(
            f"{API}/overrides", json=_body("commune", 100, commune="chenove"), headers=admin.headers
        ),
        201,
    )
    assert ok(await client.get(f"{API}/overrides", headers=h)) == []
    assert (await client.get(f"{API}/overrides/{theirs['id']}", headers=h)).status_code == 404
    r = await client.post(f"{API}/overrides/{theirs['id']}/cancel", json={}, headers=h)
    assert r.status_code == 404
    mine = ok(
        await client.post(
            f"{API}/overrides", json=_body("commune", 100, commune="talant"), headers=h
        ),
        201,
    )
    assert mine["commune"] == "talant"


async def test_bad_overrides_are_refused_naming_the_field(
    client: httpx.AsyncClient, admin: Person, system: Context
) -> None:
    await _setup(client, admin, system)
    h = admin.headers
    now = utcnow()
    cases: list[tuple[dict[str, Any], list[str]]] = [
        (
            _body("assets", 50, asset_ids=["SL-TAL-1"], starts_at=_iso(now + timedelta(hours=3))),
            ["ends_at"],
        ),
        (_body("assets", 120, asset_ids=["SL-TAL-1"]), ["level_pct"]),
        (_body("assets", -1, asset_ids=["SL-TAL-1"]), ["level_pct"]),
        (
            {k: v for k, v in _body("commune", 50, commune="talant").items() if k != "reason"},
            ["reason"],
        ),
        ({**_body("commune", 50, commune="talant"), "reason": "   "}, ["reason"]),
        (
            {k: v for k, v in _body("commune", 50, commune="talant").items() if k != "ends_at"},
            ["ends_at"],
        ),
        (_body("commune", 50, hours=8 * 24, commune="talant"), ["ends_at"]),
        (_body("commune", 50, asset_ids=["SL-TAL-1"]), ["asset_ids", "commune"]),
        (
            _body("assets", 50, asset_ids=["SL-TAL-1"], starts_at=_iso(now - timedelta(hours=1))),
            ["starts_at"],
        ),
        (_body("assets", 50, asset_ids=["NOPE"]), ["asset_ids.0"]),
        (
            {
                **_body("assets", 50, asset_ids=["SL-TAL-1"]),
                "starts_at": _iso(now - timedelta(minutes=4)),
                "ends_at": _iso(now - timedelta(minutes=1)),
            },
            ["ends_at"],
        ),
        (
            {
                **_body("assets", 50, asset_ids=["SL-TAL-1"]),
                "starts_at": _iso(now + timedelta(days=400)),
                "ends_at": _iso(now + timedelta(days=401)),
            },
            ["starts_at"],
        ),
        (_body("commune", 50, commune="Gotham"), ["commune"]),
    ]
    for body, fields in cases:
        r = await client.post(f"{API}/overrides", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        assert sorted(e["field"] for e in r.json()["errors"]) == fields, (body, r.text)
    # Nothing half-applied: no override, no schedule moved.
    assert ok(await client.get(f"{API}/overrides", headers=h)) == []
    assert await _overridden(client, h, "LC-TAL-0001") == []


def _square(lon: float, lat: float, half: float = 0.0005) -> dict[str, Any]:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


async def test_groups_and_polygons_reach_their_lights(
    client: httpx.AsyncClient, admin: Person, system: Context
) -> None:
    await _setup(client, admin, system)
    h = admin.headers
    # A second light on the Talant cabinet, elsewhere: a polygon around the first only.
    far = {"type": "Point", "coordinates": [5.02, 47.35]}
    ok(await client.post("/api/v1/assets", json=light("SL-TAL-2", location=far), headers=h), 201)
    around = _body("polygon", 100, polygon=_square(5.006, 47.338), commune="talant")
    scene = ok(await client.post(f"{API}/overrides", json=around, headers=h), 201)
    assert scene["commune"] == "talant"
    [sent] = await _overridden(client, h, "LC-TAL-0001")
    assert (sent["id"], sent["lights"]) == (scene["id"], ["SL-TAL-1"])
    why = ok(await client.get(f"{API}/assets/SL-TAL-2/why", headers=h))
    assert why["override"] is None
    # Around nothing, or a group of nothing that lights: refused, naming the field.
    empty = _body("polygon", 100, polygon=_square(4.9, 47.2))
    r = await client.post(f"{API}/overrides", json=empty, headers=h)
    assert (r.status_code, [e["field"] for e in r.json()["errors"]]) == (422, ["polygon"])
    body = {"name": "Rien", "commune": "talant", "kind": "list", "asset_ids": []}
    nothing = ok(await client.post("/api/v1/groups", json=body, headers=h), 201)
    r = await client.post(
        f"{API}/overrides", json=_body("group", 0, group_id=nothing["id"]), headers=h
    )
    assert (r.status_code, [e["field"] for e in r.json()["errors"]]) == (422, ["group_id"])
    # A group of the second light and the Chenôve cabinet: each reached as listed.
    body = {"name": "Rue", "kind": "list", "asset_ids": ["SL-TAL-2", "LC-CHE-0001"]}
    street = ok(await client.post("/api/v1/groups", json=body, headers=h), 201)
    grouped = ok(
        await client.post(
            f"{API}/overrides", json=_body("group", 30, group_id=street["id"]), headers=h
        ),
        201,
    )
    assert grouped["commune"] is None  # a metropolis-wide group
    assert [(o["id"], o["lights"]) for o in await _overridden(client, h, "LC-TAL-0001")] == [
        (scene["id"], ["SL-TAL-1"]),
        (grouped["id"], ["SL-TAL-2"]),
    ]
    [sent] = await _overridden(client, h, "LC-CHE-0001")
    assert (sent["id"], sent["lights"]) == (grouped["id"], None)
    why = ok(await client.get(f"{API}/assets/SL-TAL-2/why", headers=h))
    assert (why["override"]["id"], why["effective_level_pct"]) == (grouped["id"], 30)
    # The light leaves the group, then the override is cancelled: the cabinet that was
    # sent it is told all the same (it would go on applying it).
    url = f"/api/v1/groups/{street['id']}"
    ok(await client.patch(url, json={"remove": ["SL-TAL-2"]}, headers=h))
    ok(await client.post(f"{API}/overrides/{grouped['id']}/cancel", json={}, headers=h))
    assert [o["id"] for o in await _overridden(client, h, "LC-TAL-0001")] == [scene["id"]]
    assert await _overridden(client, h, "LC-CHE-0001") == []


async def test_overrides_made_at_the_same_time_both_reach_the_schedule(
    client: httpx.AsyncClient, admin: Person, system: Context
) -> None:
    await _setup(client, admin, system)
    bodies = [
        _body("assets", 100, asset_ids=["SL-TAL-1"]),
        _body("commune", 80, commune="talant"),
        _body("assets", 20, asset_ids=["LC-TAL-0001"]),
    ]
    made = await asyncio.gather(
        *(service.create_override(system, OverrideCreate.model_validate(b)) for b in bodies)
    )
    sent = await _overridden(client, admin.headers, "LC-TAL-0001")
    assert sorted(o["id"] for o in sent) == sorted(m.id for m in made)
