"""Interventions end to end: teams, the status table, the field agent's queue, photos,
commune scope, work orders from alarms, repair confirmation and KPIs, on both databases."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select

from beffroi.accounts import tokens
from beffroi.accounts.models import User
from beffroi.accounts.schemas import TokenCreate
from beffroi.alarms import raising
from beffroi.alarms.lifecycle import AlarmSource
from beffroi.alarms.models import Alarm, AlarmHistory
from beffroi.alarms.signals import AlarmSignal
from beffroi.assets import importing
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.core.audit import AuditEntry
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.interventions import jobs
from beffroi.interventions.events import InterventionChanged
from beffroi.interventions.lifecycle import TRANSITIONS, Status
from beffroi.interventions.models import Intervention
from beffroi.telemetry.models import DeviceEvent, DeviceStatus
from tests.support import Person

pytestmark = pytest.mark.asyncio
API = "/api/v1"
TALANT = (5.005, 47.337)
CHENOVE = (5.006, 47.292)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64
# The start of a real PNG: its chunk lengths hold NUL bytes.
REAL_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
)


@dataclass
class World:
    """People, teams and assets every test starts from."""

    http: httpx.AsyncClient
    runtime: Runtime
    system: Context
    admin: Person
    sup: Person  # metropolis-wide supervisor
    sup_talant: Person
    op_talant: Person
    agent: Person  # field agent of team "lights"
    outsider: Person  # field agent of team "roads"
    agent_id: int
    outsider_id: int
    lights: int  # team: lighting in Talant and Chenôve
    roads: int  # team: roads and lighting in Talant

    async def call(
        self, who: Person, method: str, path: str, expect: int | None = None, **kw: Any
    ) -> Any:
        r = await self.http.request(method, API + path, headers=who.headers, **kw)
        if expect is not None:
            assert r.status_code == expect, r.text
        if r.status_code != 204 and r.headers.get("content-type", "").startswith(
            ("application/json", "application/problem")
        ):
            return r.json()
        return r

    async def create(self, who: Person | None = None, **body: Any) -> dict[str, Any]:
        payload = {"category": "lighting", "title": "Lamp out", "commune": "talant", **body}
        return await self.call(who or self.sup, "POST", "/interventions", 201, json=payload)  # type: ignore[no-any-return]

    async def move(self, who: Person, iid: int, status: str, expect: int = 200, **kw: Any) -> Any:
        return await self.call(
            who, "POST", f"/interventions/{iid}/status", expect, json={"status": status, **kw}
        )


async def _assets(system: Context) -> None:
    def item(
        i: str, t: str, commune: str, at: tuple[float, float], parent: str | None = None
    ) -> AssetCreate:
        return AssetCreate(
            id=i, type=t, name=i, commune=commune, location=Point(coordinates=at), parent_id=parent
        )

    items = [
        item("CAB-TAL-1", "lighting_cabinet", "talant", TALANT),
        item("SL-TAL-1", "streetlight", "talant", TALANT, "CAB-TAL-1"),
        item("SL-TAL-2", "streetlight", "talant", TALANT, "CAB-TAL-1"),
        item("SL-CHE-1", "streetlight", "chenove", CHENOVE),
    ]
    report = await importing.import_assets(system, list(enumerate(items, 1)), source="tests")
    assert not report.errors, report.errors


async def _person(
    system: Context, username: str, role: Role, communes: list[str] | None = None
) -> tuple[Person, int]:
    """A person and their token, without the deliberately slow password hash of
    ``make_person`` (these people never sign in with a password)."""
    async with system.db.write() as session:
        user = User(
            username=username,
            password_hash="!",
            roles=[role.value],
            domains=["lighting"] if role is Role.OPERATOR else [],
            communes=communes,
        )
        session.add(user)
        await session.flush()
        user_id = user.id
    _, secret = await tokens.create_token(system, TokenCreate(name="tests", username=username))
    return Person(username, secret), user_id


@pytest.fixture
async def w(client: httpx.AsyncClient, runtime: Runtime, system: Context) -> World:
    await _assets(system)
    admin, _ = await _person(system, "admin", Role.ADMIN)
    sup, _ = await _person(system, "sup", Role.SUPERVISOR)
    sup_talant, _ = await _person(system, "sup-talant", Role.SUPERVISOR, ["talant"])
    op_talant, _ = await _person(system, "op-talant", Role.OPERATOR, ["talant"])
    agent, agent_id = await _person(system, "agent", Role.FIELD_AGENT, ["talant", "chenove"])
    outsider, outsider_id = await _person(system, "outsider", Role.FIELD_AGENT, ["talant"])
    world = World(
        client,
        runtime,
        system,
        admin,
        sup,
        sup_talant,
        op_talant,
        agent,
        outsider,
        agent_id,
        outsider_id,
        0,
        0,
    )
    lights = await world.call(
        sup,
        "POST",
        "/teams",
        201,
        json={"name": "lights", "categories": ["lighting"], "communes": ["talant", "Chenôve"]},
    )
    roads = await world.call(
        sup,
        "POST",
        "/teams",
        201,
        json={"name": "roads", "categories": ["roads", "lighting"], "communes": ["talant"]},
    )
    world.lights, world.roads = lights["id"], roads["id"]
    await world.call(
        sup, "POST", f"/teams/{world.lights}/members", 201, json={"user_id": world.agent_id}
    )
    await world.call(
        sup, "POST", f"/teams/{world.roads}/members", 201, json={"user_id": world.outsider_id}
    )
    return world


# --- teams ---------------------------------------------------------------------------------


async def test_teams_crud_and_rights(w: World) -> None:
    team = await w.call(w.agent, "GET", f"/teams/{w.lights}", 200)
    assert team["communes"] == ["chenove", "talant"]
    assert [m["username"] for m in team["members"]] == ["agent"]
    # A field agent reads teams but does not manage them.
    await w.call(
        w.agent,
        "POST",
        "/teams",
        403,
        json={"name": "x", "categories": ["snow"], "communes": ["talant"]},
    )
    # Duplicate name; unknown commune; a Talant supervisor cannot cover Chenôve.
    await w.call(
        w.sup,
        "POST",
        "/teams",
        409,
        json={"name": "lights", "categories": ["snow"], "communes": ["talant"]},
    )
    bad = await w.call(
        w.sup,
        "POST",
        "/teams",
        422,
        json={"name": "x", "categories": ["snow"], "communes": ["nowhere"]},
    )
    assert bad["errors"][0]["field"] == "communes[0]"
    await w.call(
        w.sup_talant,
        "POST",
        "/teams",
        403,
        json={"name": "x", "categories": ["snow"], "communes": ["chenove"]},
    )
    snow = await w.call(
        w.sup_talant,
        "POST",
        "/teams",
        201,
        json={"name": "snow", "categories": ["snow"], "communes": ["talant"]},
    )
    changed = await w.call(
        w.sup_talant, "PATCH", f"/teams/{snow['id']}", 200, json={"categories": ["snow", "roads"]}
    )
    assert changed["categories"] == ["roads", "snow"]
    # Members: add twice is a conflict, remove, remove again is not found.
    await w.call(w.sup, "POST", f"/teams/{snow['id']}/members", 201, json={"user_id": w.agent_id})
    await w.call(w.sup, "POST", f"/teams/{snow['id']}/members", 409, json={"user_id": w.agent_id})
    await w.call(w.sup, "DELETE", f"/teams/{snow['id']}/members/{w.agent_id}", 200)
    await w.call(w.sup, "DELETE", f"/teams/{snow['id']}/members/{w.agent_id}", 404)
    # A team that also covers Chenôve is not the Talant supervisor's: it answers as missing,
    # and its people cannot be given Talant work through it.
    await w.call(w.sup_talant, "PATCH", f"/teams/{w.lights}", 404, json={"name": "y"})
    await w.call(w.sup_talant, "DELETE", f"/teams/{snow['id']}", 204)
    names = [t["name"] for t in await w.call(w.op_talant, "GET", "/teams", 200)]
    assert names == ["roads"]
    assert [t["name"] for t in await w.call(w.sup, "GET", "/teams", 200)] == ["lights", "roads"]
    # Only people the manager sees and who work in one of the team's communes join it.
    other = await w.call(
        w.sup,
        "POST",
        "/teams",
        201,
        json={"name": "che", "categories": ["snow"], "communes": ["chenove"]},
    )
    outside = await w.call(
        w.sup, "POST", f"/teams/{other['id']}/members", 422, json={"user_id": w.outsider_id}
    )
    ghost = await w.call(
        w.sup, "POST", f"/teams/{other['id']}/members", 422, json={"user_id": 987654}
    )
    assert outside["detail"].replace(str(w.outsider_id), "N") == ghost["detail"].replace(
        "987654", "N"
    )
    async with w.runtime.db.read() as session:
        refused = (
            (
                await session.execute(
                    select(AuditEntry.actor).where(AuditEntry.action == "team.create.refused")
                )
            )
            .scalars()
            .all()
        )
    assert sorted(refused) == ["agent", "sup", "sup", "sup-talant"]


# --- lifecycle -----------------------------------------------------------------------------


async def _reach(w: World, status: Status) -> int:
    """An intervention of team "lights" driven to ``status`` (by the admin)."""
    iid: int = (await w.create())["id"]
    if status is Status.NEW:
        return iid
    await w.call(w.admin, "POST", f"/interventions/{iid}/assign", 200, json={"team_id": w.lights})
    path = {
        Status.ASSIGNED: [],
        Status.IN_PROGRESS: ["in_progress"],
        Status.ON_HOLD: ["in_progress", "on_hold"],
        Status.RESOLVED: ["in_progress", "resolved"],
        Status.CLOSED: ["in_progress", "resolved", "closed"],
        Status.CANCELLED: ["cancelled"],
    }[status]
    for step in path:
        await w.move(w.admin, iid, step, reason="because")
    return iid


async def test_every_transition_and_every_refusal(w: World) -> None:
    # Allowed moves, by who the table says (field moves by the team's agent).
    for (frm, to), _actor in TRANSITIONS.items():
        iid = await _reach(w, frm)
        if to is Status.ASSIGNED:
            out = await w.call(
                w.sup,
                "POST",
                f"/interventions/{iid}/assign",
                200,
                json={"team_id": w.lights, "assignee_id": w.agent_id},
            )
        else:
            who = w.agent if _actor.value == "field" else w.sup
            out = await w.move(who, iid, to.value, reason="why")
        assert out["status"] == to.value, (frm, to)
    # Refused moves: 409 naming the current status; nothing changes.
    for frm in Status:
        iid = await _reach(w, frm)
        for to in Status:
            if (frm, to) in TRANSITIONS:
                continue
            if to is Status.ASSIGNED:
                problem = await w.call(
                    w.sup, "POST", f"/interventions/{iid}/assign", 409, json={"team_id": w.lights}
                )
            else:
                problem = await w.move(w.sup, iid, to.value, 409, reason="why")
            assert problem["current_status"] == frm.value, (frm, to)
            assert frm.value in problem["detail"]
        assert (await w.call(w.sup, "GET", f"/interventions/{iid}", 200))["status"] == frm.value
    # Refusals are audited.
    async with w.runtime.db.read() as session:
        refused = (
            (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.action == "intervention.status.refused")
                )
            )
            .scalars()
            .all()
        )
    assert refused
    assert all(e.outcome == "denied" for e in refused)


async def test_timestamps_history_and_reasons(w: World) -> None:
    iid = await _reach(w, Status.IN_PROGRESS)
    await w.move(w.agent, iid, "on_hold", 422)  # a hold needs a reason
    await w.move(w.agent, iid, "on_hold", reason="waiting for a driver")
    await w.move(w.agent, iid, "in_progress")
    await w.move(w.agent, iid, "resolved", note="driver replaced")
    await w.move(w.sup, iid, "closed", 200)
    detail = await w.call(w.sup, "GET", f"/interventions/{iid}", 200)
    assert [(h["from_status"], h["to_status"]) for h in detail["history"]] == [
        (None, "new"),
        ("new", "assigned"),
        ("assigned", "in_progress"),
        ("in_progress", "on_hold"),
        ("on_hold", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
    ]
    assert detail["history"][3]["detail"]["reason"] == "waiting for a driver"
    assert detail["notes"][0]["text"] == "driver replaced"
    assert detail["started_at"]
    assert detail["resolved_at"]
    assert detail["closed_at"]
    assert detail["next_statuses"] == []
    # On hold did not move the due time (the clock is not paused).
    assert detail["due_at"] == (await w.call(w.sup, "GET", f"/interventions/{iid}", 200))["due_at"]


async def test_creation_rules_and_sla(w: World) -> None:
    before = utcnow()
    crit = await w.create(
        priority="critical",
        asset_id="SL-TAL-1",
        commune=None,
        team_id=w.lights,
        assignee_id=w.agent_id,
    )
    assert crit["status"] == "assigned"
    assert crit["commune"] == "talant"
    assert crit["location"]["coordinates"] == list(TALANT)
    due = datetime.fromisoformat(crit["due_at"])
    assert timedelta(hours=4) <= due - before <= timedelta(hours=4, minutes=1)
    # The commune comes from the asset; a different one is refused.
    bad = await w.call(
        w.sup,
        "POST",
        "/interventions",
        422,
        json={"category": "lighting", "title": "x", "asset_id": "SL-TAL-1", "commune": "chenove"},
    )
    assert bad["errors"][0]["field"] == "commune"
    # The assignee must be a member of the team; the team must cover commune and category.
    bad = await w.call(
        w.sup,
        "POST",
        "/interventions",
        422,
        json={
            "category": "lighting",
            "title": "x",
            "commune": "talant",
            "team_id": w.lights,
            "assignee_id": w.outsider_id,
        },
    )
    assert bad["errors"][0]["field"] == "assignee_id"
    bad = await w.call(
        w.sup,
        "POST",
        "/interventions",
        422,
        json={"category": "lighting", "title": "x", "commune": "chenove", "team_id": w.roads},
    )
    assert "does not cover" in bad["detail"]
    bad = await w.call(
        w.sup,
        "POST",
        "/interventions",
        422,
        json={"category": "snow", "title": "x", "commune": "talant", "team_id": w.lights},
    )
    assert "snow" in bad["detail"]
    await w.call(w.sup, "POST", "/interventions", 422, json={"category": "lighting", "title": "x"})
    await w.call(
        w.sup,
        "POST",
        "/interventions",
        422,
        json={"category": "lighting", "title": "x", "commune": "talant", "asset_ids": ["NOPE"]},
    )


async def test_links(w: World) -> None:
    iid = (await w.create(asset_id="SL-TAL-1", commune=None))["id"]
    detail = await w.call(
        w.sup, "POST", f"/interventions/{iid}/links", 200, json={"asset_ids": ["SL-TAL-2"]}
    )
    assert detail["asset_ids"] == ["SL-TAL-1", "SL-TAL-2"]
    assert detail["history"][-1]["detail"]["asset_ids"] == ["SL-TAL-2"]
    await w.call(w.sup, "POST", f"/interventions/{iid}/links", 422, json={"alarm_ids": [999]})
    await w.call(w.sup, "POST", f"/interventions/{iid}/links", 422, json={})
    await w.call(
        w.sup_talant, "POST", f"/interventions/{iid}/links", 422, json={"asset_ids": ["SL-CHE-1"]}
    )


async def test_update_reprioritises(w: World) -> None:
    crit = await w.create(priority="critical", team_id=w.lights)
    created = datetime.fromisoformat(crit["created_at"])
    changed = await w.call(
        w.sup,
        "PATCH",
        f"/interventions/{crit['id']}",
        200,
        json={"priority": "high", "title": "Two lamps out", "reason": "not urgent after all"},
    )
    assert changed["title"] == "Two lamps out"
    assert datetime.fromisoformat(changed["due_at"]) - created == timedelta(hours=24)
    await w.call(w.agent, "PATCH", f"/interventions/{crit['id']}", 403, json={"title": "x"})
    await w.call(w.sup, "PATCH", f"/interventions/{crit['id']}", 422, json={})
    await w.move(w.sup, crit["id"], "cancelled", reason="duplicate")
    problem = await w.call(w.sup, "PATCH", f"/interventions/{crit['id']}", 409, json={"title": "x"})
    assert problem["current_status"] == "cancelled"
    detail = await w.call(w.sup, "GET", f"/interventions/{crit['id']}", 200)
    assert detail["history"][1]["action"] == "updated"
    assert detail["history"][1]["detail"]["before"]["priority"] == "critical"


# --- the field -----------------------------------------------------------------------------


async def test_the_list_pages_newest_first(w: World) -> None:
    made = [(await w.create(title=f"Lamp {n}"))["id"] for n in range(5)]
    for limit in (2, 5):
        seen: list[int] = []
        params: dict[str, Any] = {"limit": limit}
        while True:
            page = await w.call(w.sup, "GET", "/interventions", 200, params=params)
            seen += [i["id"] for i in page["items"]]
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]
        assert seen == made[::-1], limit
    await w.call(w.sup, "GET", "/interventions", 422, params={"cursor": "5"})


async def test_field_agent_works_only_their_team(w: World) -> None:
    sub = w.runtime.events.subscribe(InterventionChanged)
    low = await w.create(priority="low", team_id=w.lights)
    crit = await w.create(priority="critical", team_id=w.lights)
    normal_che = await w.create(
        priority="normal", commune="chenove", team_id=w.lights, assignee_id=w.agent_id
    )
    theirs = await w.create(priority="critical", team_id=w.roads)
    unassigned = await w.create(priority="critical")
    queue = await w.call(w.agent, "GET", "/interventions/queue", 200)
    assert [q["id"] for q in queue] == [crit["id"], normal_che["id"], low["id"]]
    assert set(queue[0]) == {
        "id",
        "title",
        "priority",
        "status",
        "category",
        "commune",
        "due_at",
        "overdue",
        "asset_id",
        "at",
        "mine",
    }
    mine = await w.call(w.agent, "GET", "/interventions/queue?mine=true", 200)
    assert [q["id"] for q in mine] == [normal_che["id"]]
    listed = await w.call(w.agent, "GET", "/interventions", 200)
    assert {i["id"] for i in listed["items"]} == {low["id"], crit["id"], normal_che["id"]}
    # Another team's work does not exist for the agent.
    for other in (theirs, unassigned):
        await w.call(w.agent, "GET", f"/interventions/{other['id']}", 404)
        await w.move(w.agent, other["id"], "in_progress", 404)
    # The outsider may not touch team "lights" work either.
    await w.move(w.outsider, crit["id"], "in_progress", 404)
    # Their own: start (they become the assignee), hold, note, photo, resolve.
    started = await w.move(w.agent, crit["id"], "in_progress")
    assert started["assignee_id"] == w.agent_id
    await w.call(
        w.agent, "POST", f"/interventions/{crit['id']}/notes", 201, json={"text": "on site"}
    )
    await w.move(w.agent, crit["id"], "resolved")
    # Dispatch moves are not theirs.
    await w.move(w.agent, crit["id"], "closed", 403)
    await w.move(w.agent, low["id"], "cancelled", 403, reason="no")
    await w.call(
        w.agent, "POST", f"/interventions/{low['id']}/assign", 403, json={"team_id": w.lights}
    )
    await w.call(
        w.agent,
        "POST",
        "/interventions",
        403,
        json={"category": "lighting", "title": "x", "commune": "talant"},
    )
    # Closed and cancelled work takes no more notes.
    await w.move(w.sup, crit["id"], "closed")
    await w.call(w.agent, "POST", f"/interventions/{crit['id']}/notes", 409, json={"text": "late"})
    assert [q["id"] for q in await w.call(w.agent, "GET", "/interventions/queue", 200)] == [
        normal_che["id"],
        low["id"],
    ]
    seen = []
    seen.extend(sub.take())
    sub.close()
    assert any(e.intervention_id == crit["id"] and e.status == "closed" for e in seen)


async def test_photos(w: World) -> None:
    iid = (await w.create(team_id=w.lights))["id"]
    up = await w.http.post(
        f"{API}/interventions/{iid}/photos",
        content=PNG,
        headers={**w.agent.headers, "Content-Type": "image/png"},
    )
    assert up.status_code == 201, up.text
    photo = up.json()
    got = await w.http.get(photo["url"], headers=w.agent.headers)
    assert got.status_code == 200
    assert got.content == PNG
    assert got.headers["content-type"] == "image/png"
    # Wrong type, bytes that are not what they claim, empty, too big.
    for ct, body in (("image/gif", b"GIF89a...."), ("image/jpeg", PNG), ("image/png", b"")):
        r = await w.http.post(
            f"{API}/interventions/{iid}/photos",
            content=body,
            headers={**w.agent.headers, "Content-Type": ct},
        )
        assert r.status_code == 422, (ct, r.text)
    big = PNG + b"\x01" * w.runtime.settings.intervention_photo_max_bytes
    r = await w.http.post(
        f"{API}/interventions/{iid}/photos",
        content=big,
        headers={**w.agent.headers, "Content-Type": "image/png"},
    )
    assert r.status_code == 413, r.text
    # Someone outside the team cannot add or fetch.
    r = await w.http.post(
        f"{API}/interventions/{iid}/photos",
        content=PNG,
        headers={**w.outsider.headers, "Content-Type": "image/png"},
    )
    assert r.status_code == 404
    assert (await w.http.get(photo["url"], headers=w.outsider.headers)).status_code == 404
    detail = await w.call(w.sup, "GET", f"/interventions/{iid}", 200)
    assert [p["size"] for p in detail["photos"]] == [len(PNG)]


async def test_real_photo_bytes_pass_the_web_guards(w: World) -> None:
    iid = (await w.create(team_id=w.lights))["id"]
    r = await w.http.post(
        f"{API}/interventions/{iid}/photos",
        content=REAL_PNG,
        headers={**w.agent.headers, "Content-Type": "image/png"},
    )
    assert r.status_code == 201, r.text


async def test_commune_scope(w: World) -> None:
    che = await w.create(commune="chenove", team_id=w.lights)
    tal = await w.create(commune="talant")
    for who in (w.sup_talant, w.op_talant):
        await w.call(who, "GET", f"/interventions/{che['id']}", 404)
        await w.move(who, che["id"], "cancelled", 404, reason="x")
        listed = await w.call(who, "GET", "/interventions", 200)
        assert [i["id"] for i in listed["items"]] == [tal["id"]]
        await w.call(
            who,
            "POST",
            "/interventions",
            403,
            json={"category": "lighting", "title": "x", "commune": "chenove"},
        )
        await w.call(
            who,
            "POST",
            "/interventions",
            422,
            json={"category": "lighting", "title": "x", "asset_id": "SL-CHE-1"},
        )
    # The operator dispatches within Talant.
    await w.call(
        w.op_talant, "POST", f"/interventions/{tal['id']}/assign", 200, json={"team_id": w.roads}
    )
    kpi = await w.call(
        w.sup_talant,
        "GET",
        "/kpis",
        200,
        params={"from": "2020-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z", "by": "commune"},
    )
    assert [g["key"] for g in kpi["groups"]] == ["talant"]
    assert kpi["total"]["interventions_created"] == 1


# --- from alarms ---------------------------------------------------------------------------


async def _signal(w: World, asset: str, kind: str, at: datetime, active: bool = True) -> None:
    async with w.runtime.db.write() as session:
        await raising.apply(session, [AlarmSignal(asset, kind, active, at, AlarmSource.DEVICE)], at)


async def _alarm(w: World, asset: str, kind: str) -> Alarm:
    """The newest alarm of that asset and type."""
    stmt = (
        select(Alarm)
        .where(Alarm.asset_id == asset, Alarm.alarm_type == kind)
        .order_by(Alarm.id.desc())
        .limit(1)
    )
    async with w.runtime.db.read() as session:
        return (await session.execute(stmt)).scalar_one()


async def _policies(w: World) -> None:
    await w.call(
        w.sup,
        "POST",
        "/intervention-policies",
        201,
        json={
            "alarm_type": "lampFailure",
            "min_severity": "minor",
            "category": "lighting",
            "priority": "high",
        },
    )
    await w.call(
        w.sup,
        "POST",
        "/intervention-policies",
        201,
        json={
            "alarm_type": "supplyLoss",
            "category": "lighting",
            "priority": "critical",
            "team_id": w.roads,
        },
    )
    await w.call(
        w.sup,
        "POST",
        "/intervention-policies",
        201,
        json={
            "alarm_type": "lampUnexpectedOn",
            "min_severity": "minor",
            "category": "lighting",
            "priority": "low",
        },
    )


async def test_policies_crud(w: World) -> None:
    p = await w.call(
        w.sup,
        "POST",
        "/intervention-policies",
        201,
        json={"alarm_type": "lampFailure", "category": "lighting", "priority": "high"},
    )
    await w.call(
        w.sup,
        "POST",
        "/intervention-policies",
        409,
        json={"alarm_type": "lampFailure", "category": "lighting", "priority": "high"},
    )
    await w.call(
        w.sup,
        "POST",
        "/intervention-policies",
        422,
        json={"alarm_type": "x", "category": "lighting", "priority": "high", "team_id": 999},
    )
    await w.call(
        w.sup_talant,
        "POST",
        "/intervention-policies",
        403,
        json={"alarm_type": "y", "category": "lighting", "priority": "high"},
    )
    await w.call(w.agent, "DELETE", f"/intervention-policies/{p['id']}", 403)
    changed = await w.call(
        w.sup,
        "PATCH",
        f"/intervention-policies/{p['id']}",
        200,
        json={"priority": "critical", "enabled": False},
    )
    assert changed["priority"] == "critical"
    assert not changed["enabled"]
    # An explicit null on a required field is named and refused, and nothing changes.
    nulls = await w.call(
        w.sup,
        "PATCH",
        f"/intervention-policies/{p['id']}",
        422,
        json={"priority": None, "enabled": True},
    )
    assert nulls["errors"] == [{"field": "priority", "message": "cannot be null"}]
    kept = await w.call(w.sup, "GET", f"/intervention-policies/{p['id']}", 200)
    assert (kept["priority"], kept["enabled"]) == ("critical", False)
    assert [
        x["alarm_type"] for x in await w.call(w.agent, "GET", "/intervention-policies", 200)
    ] == ["lampFailure"]
    await w.call(w.sup, "DELETE", f"/intervention-policies/{p['id']}", 204)
    await w.call(w.sup, "GET", f"/intervention-policies/{p['id']}", 404)


async def test_work_orders_from_alarms(w: World) -> None:
    await _policies(w)
    settings = w.runtime.settings
    t0 = utcnow() - timedelta(minutes=5)
    # A lamp failure in Chenôve, and a warning below its policy's minimum severity.
    await _signal(w, "SL-CHE-1", "lampFailure", t0)
    await _signal(w, "SL-TAL-1", "lampUnexpectedOn", t0)
    # A lamp failure under a cabinet, then the cabinet's supply loss 10 s later: the
    # light's alarm is grouped under the cabinet's within the grace period.
    await _signal(w, "SL-TAL-2", "lampFailure", t0 + timedelta(seconds=1))
    await _signal(w, "CAB-TAL-1", "supplyLoss", t0 + timedelta(seconds=10))
    child = await _alarm(w, "SL-TAL-2", "lampFailure")
    assert child.parent_id is not None, "the lead's grouping should have grouped it"
    # Within the grace period nothing is opened.
    early = await jobs.follow_alarms(w.runtime.db, settings, t0 + timedelta(seconds=20))
    assert early.created == []
    done = await jobs.follow_alarms(w.runtime.db, settings, t0 + timedelta(seconds=45))
    assert len(done.created) == 2
    async with w.runtime.db.read() as session:
        rows = {r.asset_id: r for r in (await session.execute(select(Intervention))).scalars()}
    assert set(rows) == {"SL-CHE-1", "CAB-TAL-1"}
    che, cab = rows["SL-CHE-1"], rows["CAB-TAL-1"]
    # Team by coverage (lights covers Chenôve lighting) or by the policy (roads).
    assert (che.team_id, che.status, che.priority, che.source) == (
        w.lights,
        "assigned",
        "high",
        "alarm",
    )
    assert cab.team_id == w.roads
    assert cab.priority == "critical"
    assert che.due_at - che.created_at == timedelta(hours=24)
    detail = await w.call(w.sup, "GET", f"/interventions/{che.id}", 200)
    assert detail["alarm_ids"] == [(await _alarm(w, "SL-CHE-1", "lampFailure")).id]
    # Nothing twice: again, later, changes nothing.
    again = await jobs.follow_alarms(w.runtime.db, settings, t0 + timedelta(minutes=3))
    assert again.created == []
    assert again.linked == []
    # The fault clears and comes back while the work is open: linked, not a new order.
    t1 = t0 + timedelta(minutes=1)
    await _signal(w, "SL-CHE-1", "lampFailure", t1, active=False)
    await _signal(w, "SL-CHE-1", "lampFailure", t1 + timedelta(seconds=1))
    later = await jobs.follow_alarms(w.runtime.db, settings, t1 + timedelta(minutes=2))
    assert later.created == []
    assert later.linked == [che.id]
    assert len((await w.call(w.sup, "GET", f"/interventions/{che.id}", 200))["alarm_ids"]) == 2
    # An alarm already linked by hand to an open intervention opens nothing.
    t2 = t0 + timedelta(minutes=2)
    await _signal(w, "SL-TAL-1", "lampFailure", t2)
    manual = await w.create(
        asset_id="SL-TAL-1",
        commune=None,
        alarm_ids=[(await _alarm(w, "SL-TAL-1", "lampFailure")).id],
    )
    none = await jobs.follow_alarms(w.runtime.db, settings, t2 + timedelta(minutes=1))
    assert none.created == []
    assert none.linked == []
    async with w.runtime.db.read() as session:
        assert len((await session.execute(select(Intervention))).scalars().all()) == 3
        audited = (
            (
                await session.execute(
                    select(AuditEntry).where(
                        AuditEntry.action == "intervention.create", AuditEntry.actor == jobs.ACTOR
                    )
                )
            )
            .scalars()
            .all()
        )
    assert len(audited) == 2
    assert manual["source"] == "manual"


async def test_an_alarm_committed_late_still_gets_its_work_order(w: World) -> None:
    """History ids are handed out before commit: on PostgreSQL the entry of a raised alarm
    can become visible after a later one. The follower used to move past it for good
    (``id > last``) and no work order was opened."""
    await _policies(w)
    settings = w.runtime.settings.model_copy(update={"intervention_alarm_grace_s": 0})
    t0 = utcnow() - timedelta(minutes=1)
    await _signal(w, "SL-CHE-1", "lampFailure", t0)
    await _signal(w, "SL-TAL-1", "lampFailure", t0)
    late = await _alarm(w, "SL-CHE-1", "lampFailure")
    # The first alarm's history entry is not visible yet: its transaction is still open.
    async with w.runtime.db.write() as session:
        entry = (
            await session.execute(select(AlarmHistory).where(AlarmHistory.alarm_id == late.id))
        ).scalar_one()
        kept = {c.key: getattr(entry, c.key) for c in AlarmHistory.__table__.columns}
        await session.delete(entry)
    first = await jobs.follow_alarms(w.runtime.db, settings, t0 + timedelta(seconds=1))
    assert len(first.created) == 1
    async with w.runtime.db.write() as session:  # ... and now it commits
        session.add(AlarmHistory(**kept))
    second = await jobs.follow_alarms(w.runtime.db, settings, t0 + timedelta(seconds=2))
    assert len(second.created) == 1, "the late entry was skipped"
    async with w.runtime.db.read() as session:
        opened = {r.asset_id for r in (await session.execute(select(Intervention))).scalars()}
    assert opened == {"SL-CHE-1", "SL-TAL-1"}


async def test_alarm_cleared_within_grace_opens_nothing(w: World) -> None:
    await _policies(w)
    t0 = utcnow() - timedelta(minutes=5)
    await _signal(w, "SL-CHE-1", "lampFailure", t0)
    await _signal(w, "SL-CHE-1", "lampFailure", t0 + timedelta(seconds=5), active=False)
    done = await jobs.follow_alarms(w.runtime.db, w.runtime.settings, t0 + timedelta(minutes=1))
    assert done.created == []
    assert done.skipped == 1


async def test_repair_confirmation_clears_linked_alarms(w: World) -> None:
    await _policies(w)
    t0 = utcnow() - timedelta(minutes=10)
    await _signal(w, "SL-CHE-1", "lampFailure", t0)
    (iid,) = (
        await jobs.follow_alarms(w.runtime.db, w.runtime.settings, t0 + timedelta(minutes=1))
    ).created
    await w.move(w.agent, iid, "in_progress")
    await w.move(w.agent, iid, "resolved", 422, clear_alarms="maybe")
    resolved = await w.move(w.agent, iid, "resolved", clear_alarms=True)
    assert resolved["clear_alarms_pending"] is True
    resolved_at = datetime.fromisoformat(resolved["resolved_at"])
    alarm = await _alarm(w, "SL-CHE-1", "lampFailure")

    async def confirm(now: datetime) -> list[int]:
        return (await jobs.confirm_repairs(w.runtime.db, now)).cleared

    # Not heard from at all, then heard from only before the resolution: nothing.
    assert await confirm(resolved_at + timedelta(minutes=1)) == []
    async with w.runtime.db.write() as session:
        session.add(
            DeviceStatus(
                asset_id="SL-CHE-1",
                online=True,
                since=t0,
                reason="status",
                last_seen_at=resolved_at - timedelta(seconds=5),
            )
        )
    assert await confirm(resolved_at + timedelta(minutes=1)) == []
    # Heard from after, but the fault was raised again: not repaired.
    async with w.runtime.db.write() as session:
        status = await session.get(DeviceStatus, "SL-CHE-1")
        assert status is not None
        status.last_seen_at = resolved_at + timedelta(seconds=30)
        session.add(
            DeviceEvent(
                asset_id="SL-CHE-1",
                ts=resolved_at + timedelta(seconds=20),
                code="lampFailure",
                active=True,
                detail={},
                received_at=resolved_at + timedelta(seconds=20),
            )
        )
    assert await confirm(resolved_at + timedelta(minutes=1)) == []
    # Offline does not confirm either.
    async with w.runtime.db.write() as session:
        await session.execute(delete(DeviceEvent))
        status = await session.get(DeviceStatus, "SL-CHE-1")
        assert status is not None
        status.online = False
    assert await confirm(resolved_at + timedelta(minutes=1)) == []
    async with w.runtime.db.write() as session:
        status = await session.get(DeviceStatus, "SL-CHE-1")
        assert status is not None
        status.online = True
    assert await confirm(resolved_at + timedelta(minutes=2)) == [alarm.id]
    cleared = await _alarm(w, "SL-CHE-1", "lampFailure")
    assert cleared.active_key is None
    assert cleared.cleared_by == f"intervention:{iid}"
    detail = await w.call(w.sup, "GET", f"/interventions/{iid}", 200)
    assert detail["clear_alarms_pending"] is False
    assert detail["history"][-1]["action"] == "alarms_cleared"
    assert await confirm(resolved_at + timedelta(minutes=3)) == []


# --- KPIs ----------------------------------------------------------------------------------


def _jan(day: int, hour: int = 0, minute: int = 0, month: int = 1, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def _kpi_data(w: World) -> None:
    a, b = w.lights, w.roads

    def iv(
        n: int,
        category: str,
        commune: str,
        team: int | None,
        created: datetime,
        due: datetime,
        status: str,
        resolved: datetime | None = None,
        cancelled: datetime | None = None,
    ) -> Intervention:
        return Intervention(
            id=n,
            category=category,
            priority="high",
            title=f"I{n}",
            description="",
            commune_code=commune,
            team_id=team,
            status=status,
            source="manual",
            created_at=created,
            created_by="tests",
            due_at=due,
            resolved_at=resolved,
            cancelled_at=cancelled,
            clear_alarms_pending=False,
            updated_at=created,
        )

    def al(
        n: int,
        commune: str,
        domain: str,
        raised: datetime,
        acked: datetime | None,
        cleared: datetime | None,
    ) -> Alarm:
        return Alarm(
            id=n,
            asset_id=f"X{n}",
            asset_type="streetlight",
            commune_code=commune,
            domain=domain,
            alarm_type="lampFailure",
            source="device",
            severity="minor",
            state="cleared_acknowledged" if cleared else "active_acknowledged",
            raised_at=raised,
            last_seen_at=raised,
            acknowledged_at=acked,
            cleared_at=cleared,
            detail={},
            updated_at=raised,
        )

    from beffroi.interventions.models import InterventionAlarm

    async with w.runtime.db.write() as session:
        session.add_all(
            [
                iv(
                    1,
                    "lighting",
                    "talant",
                    a,
                    _jan(10),
                    _jan(10, 4),
                    "resolved",
                    resolved=_jan(10, 2),
                ),
                iv(
                    2,
                    "lighting",
                    "chenove",
                    b,
                    _jan(11),
                    _jan(11, 4),
                    "closed",
                    resolved=_jan(11, 6),
                ),
                iv(3, "traffic", "talant", a, _jan(20), _jan(21), "in_progress"),
                iv(4, "roads", "talant", None, _jan(25), _jan(26), "cancelled", cancelled=_jan(26)),
                iv(
                    5,
                    "lighting",
                    "talant",
                    a,
                    _jan(20, month=12, year=2025),
                    _jan(21, month=12, year=2025),
                    "resolved",
                    resolved=_jan(2),
                ),
                al(1, "talant", "lighting", _jan(10), _jan(10, 0, 5), _jan(10, 3)),
                al(2, "chenove", "lighting", _jan(11), _jan(11, 0, 15), None),
                al(3, "talant", "traffic", _jan(5), None, _jan(5, 1)),
                al(4, "talant", "lighting", _jan(5, month=2), _jan(5, 1, month=2), None),
            ]
        )
        await session.flush()
        session.add_all(
            [
                InterventionAlarm(intervention_id=1, alarm_id=1, linked_at=_jan(10)),
                InterventionAlarm(intervention_id=2, alarm_id=2, linked_at=_jan(11)),
            ]
        )


async def test_kpis_on_a_controlled_data_set(w: World) -> None:
    await _kpi_data(w)
    period = {"from": "2026-01-01T00:00:00+00:00", "to": "2026-02-01T00:00:00+00:00"}
    report = await w.call(w.sup, "GET", "/kpis", 200, params=period)
    assert report["from"].startswith("2026-01-01")
    assert report["groups"] == []
    assert report["total"] == {
        "key": None,
        "interventions_created": 4,
        "interventions_resolved": 3,
        "interventions_cancelled": 1,
        "mean_time_to_repair_s": (7200 + 21600 + 13 * 86400) / 3,
        "sla_due": 3,
        "sla_met": 1,
        "sla_compliance": pytest.approx(1 / 3),
        "open_overdue": 1,
        "alarms_raised": 3,
        "alarms_acknowledged": 2,
        "mean_time_to_acknowledge_s": 600.0,
        "alarms_cleared": 2,
        "alarm_mean_time_to_repair_s": 7200.0,
    }
    by_commune = {
        g["key"]: g
        for g in (await w.call(w.sup, "GET", "/kpis", 200, params={**period, "by": "commune"}))[
            "groups"
        ]
    }
    assert set(by_commune) == {"talant", "chenove"}
    t, c = by_commune["talant"], by_commune["chenove"]
    assert (
        t["interventions_created"],
        t["interventions_resolved"],
        t["mean_time_to_repair_s"],
    ) == (3, 2, (7200 + 13 * 86400) / 2)
    assert (t["sla_due"], t["sla_met"], t["sla_compliance"], t["open_overdue"]) == (2, 1, 0.5, 1)
    assert (
        t["alarms_raised"],
        t["mean_time_to_acknowledge_s"],
        t["alarm_mean_time_to_repair_s"],
    ) == (2, 300.0, 7200.0)
    assert (
        c["sla_due"],
        c["sla_met"],
        c["sla_compliance"],
        c["mean_time_to_acknowledge_s"],
        c["alarms_cleared"],
    ) == (1, 0, 0.0, 900.0, 0)
    by_team = {
        g["key"]: g
        for g in (await w.call(w.sup, "GET", "/kpis", 200, params={**period, "by": "team"}))[
            "groups"
        ]
    }
    assert set(by_team) == {str(w.lights), str(w.roads), None}
    lights = by_team[str(w.lights)]
    assert (
        lights["interventions_created"],
        lights["interventions_resolved"],
        lights["alarms_raised"],
    ) == (2, 2, 1)
    assert (by_team[None]["interventions_cancelled"], by_team[None]["alarms_raised"]) == (1, 1)
    by_category = {
        g["key"]: g
        for g in (await w.call(w.sup, "GET", "/kpis", 200, params={**period, "by": "category"}))[
            "groups"
        ]
    }
    assert set(by_category) == {"lighting", "traffic", "roads"}
    assert (
        by_category["lighting"]["interventions_resolved"],
        by_category["lighting"]["alarms_raised"],
    ) == (3, 2)
    assert by_category["traffic"]["alarm_mean_time_to_repair_s"] == 3600.0
    # Scope, rights and input.
    talant_only = await w.call(w.sup_talant, "GET", "/kpis", 200, params=period)
    assert talant_only["total"] == {**by_commune["talant"], "key": None}
    await w.call(w.agent, "GET", "/kpis", 403, params=period)
    await w.call(w.sup, "GET", "/kpis", 422, params={"from": period["to"], "to": period["from"]})


async def test_run_loop_opens_work_orders_and_stops(w: World) -> None:
    await _policies(w)
    await _signal(w, "SL-CHE-1", "lampFailure", utcnow() - timedelta(minutes=1))
    sub = w.runtime.events.subscribe(InterventionChanged)
    stop = asyncio.Event()
    task = asyncio.create_task(jobs.run(w.runtime, stop))
    try:
        async with asyncio.timeout(10):
            event = await sub.get()
        assert event.action == "created"
        assert event.commune == "chenove"
    finally:
        stop.set()
        async with asyncio.timeout(10):
            await task
        sub.close()
