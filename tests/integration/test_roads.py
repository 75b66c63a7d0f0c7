"""Road situations on both databases: recorded, changed, ended and cancelled through the
API with their audit; moved by the clock; the signs near one proposed a text, sent it
only on confirmation and cleared once it is over; commune scope; the DATEX II export."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from beffroi.commands.models import Command
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.roads import datex, export
from beffroi.roads.lifecycle import advance
from tests.support import (
    Person,
    audit_seq,
    audited_since,
    make_person,
    table_rows,
)

pytestmark = pytest.mark.asyncio
API = "/api/v1/roads"
TALANT_LINE = {"type": "LineString", "coordinates": [[5.000, 47.336], [5.010, 47.338]]}
CHENOVE_LINE = {"type": "LineString", "coordinates": [[5.003, 47.291], [5.010, 47.293]]}
DETOUR = {"type": "LineString", "coordinates": [[5.000, 47.336], [5.004, 47.340], [5.010, 47.338]]}
TABLES = ("road_situations", "road_situation_communes", "road_sign_postings", "commands")


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def closure(**extra: Any) -> dict[str, Any]:
    now = utcnow()
    return {
        "type": "closure",
        "title": "Réfection de chaussée",
        "road": "Rue de l'Église",
        "geometry": TALANT_LINE,
        "detour": DETOUR,
        "starts_at": _iso(now - timedelta(minutes=5)),
        "ends_at": _iso(now + timedelta(days=2)),
        "impact": {"road_closed": True},
        **extra,
    }


def sign(asset_id: str, lon: float, lat: float, commune: str = "Talant") -> dict[str, Any]:
    return {
        "id": asset_id,
        "type": "message_sign",
        "name": f"PMV {asset_id}",
        "commune": commune,
        "location": {"type": "Point", "coordinates": [lon, lat]},
        "attributes": {"lines": 3, "width_chars": 16},
    }


async def test_a_closure_from_record_to_signs_cleared(
    client: httpx.AsyncClient, admin: Person, runtime: Runtime
) -> None:
    h = admin.headers
    near = ok(
        await client.post("/api/v1/assets", json=sign("PMV-TAL-1", 5.006, 47.339), headers=h), 201
    )
    ok(
        await client.post(
            "/api/v1/assets", json=sign("PMV-CHE-1", 5.006, 47.292, "Chenôve"), headers=h
        ),
        201,
    )
    seq = await audit_seq(runtime)
    made = ok(await client.post(f"{API}/situations", json=closure(), headers=h), 201)
    assert (made["status"], made["communes"], made["version"]) == ("active", ["talant"], 1)
    assert made["impact"]["road_closed"] is True
    assert made["detour"]["type"] == "LineString"
    sid = made["id"]
    # The sign 150 m away is proposed a text for its size; the one in Chenôve is too far.
    signs = ok(await client.get(f"{API}/situations/{sid}/signs", headers=h))
    assert [p["asset_id"] for p in signs["proposals"]] == [near["id"]]
    proposed = signs["proposals"][0]["proposed"]
    assert proposed == ["RUE DE L'EGLISE", "FERMEE", "SUIVRE DEVIATION"]
    assert signs["postings"] == []
    assert signs["to_clear"] == []
    # Nothing is sent before the operator confirms.
    async with runtime.db.read() as session:
        assert (await session.execute(select(Command))).first() is None
    # Only message signs show texts: anything else is unknown, like a missing sign.
    other = ok(
        await client.post(
            "/api/v1/assets",
            json={
                **sign("BO-TAL-1", 5.006, 47.339),
                "type": "bollard",
                "attributes": {"site": "Place", "access": "permanent"},
            },
            headers=h,
        ),
        201,
    )
    for asset_id in (other["id"], "GHOST-0404"):
        wrong = {"signs": [{"asset_id": asset_id, "text": "ROUTE FERMEE"}]}
        problem = await client.post(f"{API}/situations/{sid}/signs/display", json=wrong, headers=h)
        assert problem.status_code == 422
        assert problem.json()["errors"][0]["message"] == f"unknown message sign {asset_id!r}"
    # A text too wide for the sign is refused, naming it, and nothing is sent.
    before = await table_rows(runtime, *TABLES)
    wide = {"signs": [{"asset_id": near["id"], "text": "UNE LIGNE BIEN TROP LONGUE"}]}
    problem = await client.post(f"{API}/situations/{sid}/signs/display", json=wide, headers=h)
    assert problem.status_code == 422
    assert problem.json()["errors"][0]["field"] == "signs.0.text"
    assert await table_rows(runtime, *TABLES) == before
    # Confirmed: one display command, until the situation's end.
    text = "\n".join(proposed)
    confirm = {"signs": [{"asset_id": near["id"], "text": text}]}
    sent = ok(await client.post(f"{API}/situations/{sid}/signs/display", json=confirm, headers=h))
    [command_id] = sent["commands"]
    command = ok(await client.get(f"/api/v1/commands/{command_id}", headers=h))
    assert (command["asset_id"], command["name"]) == (near["id"], "display")
    assert command["params"]["text"] == text
    until = datetime.fromisoformat(command["params"]["until"])
    assert until == datetime.fromisoformat(made["ends_at"])
    signs = ok(await client.get(f"{API}/situations/{sid}/signs", headers=h))
    assert signs["proposals"][0]["showing"] == text
    # A stale version is refused; the current one changes it.
    stale = await client.patch(
        f"{API}/situations/{sid}", json={"version": 7, "title": "x"}, headers=h
    )
    assert stale.status_code == 409
    changed = ok(
        await client.patch(
            f"{API}/situations/{sid}",
            json={"version": 1, "impact": {"road_closed": True, "delay_min": 15}},
            headers=h,
        )
    )
    assert (changed["version"], changed["impact"]["delay_min"]) == (2, 15)
    # Ended now: the sign that shows it is to be cleared, and is on confirmation.
    ended = ok(
        await client.post(
            f"{API}/situations/{sid}/end", json={"version": 2, "reason": "Rouverte"}, headers=h
        )
    )
    assert (ended["status"], ended["closed_by"], ended["close_reason"]) == (
        "ended",
        "admin",
        "Rouverte",
    )
    signs = ok(await client.get(f"{API}/situations/{sid}/signs", headers=h))
    assert (signs["proposals"], signs["to_clear"]) == ([], [near["id"]])
    cleared = ok(await client.post(f"{API}/situations/{sid}/signs/clear", json={}, headers=h))
    [clear_id] = cleared["commands"]
    assert ok(await client.get(f"/api/v1/commands/{clear_id}", headers=h))["name"] == "clear"
    signs = ok(await client.get(f"{API}/situations/{sid}/signs", headers=h))
    assert signs["to_clear"] == []
    assert signs["postings"][0]["cleared_by"] == "admin"
    # Closed, it changes no more.
    again = await client.post(
        f"{API}/situations/{sid}/cancel", json={"version": 3, "reason": "x"}, headers=h
    )
    assert again.status_code == 409
    actions = [(e.action, e.outcome) for e in await audited_since(runtime, seq)]
    for action in ("create", "signs_display", "update", "end", "signs_clear"):
        assert (f"road_situation.{action}", "success") in actions
    assert ("road_situation.signs_display.refused", "denied") in actions
    assert actions.count(("command.create", "success")) == 2


async def test_bad_input_is_refused_naming_the_field(
    client: httpx.AsyncClient, admin: Person, runtime: Runtime
) -> None:
    h = admin.headers
    before = await table_rows(runtime, *TABLES)
    now = utcnow()
    cases = [
        (
            closure(geometry={"type": "LineString", "coordinates": [[2.35, 48.85], [2.36, 48.86]]}),
            "geometry",
        ),
        (closure(detour={"type": "LineString", "coordinates": [[5.0, 47.3]]}), "detour"),
        (closure(ends_at=None), "ends_at"),
        (closure(ends_at=_iso(now - timedelta(hours=1))), "ends_at"),
        (closure(type="incident"), "incident_kind"),
        (closure(incident_kind="accident"), "incident_kind"),
    ]
    for body, field in cases:
        problem = await client.post(f"{API}/situations", json=body, headers=h)
        assert problem.status_code == 422, body
        assert field in {e["field"] for e in problem.json()["errors"]}, problem.json()
    assert await table_rows(runtime, *TABLES) == before
    # An incident's end may be unknown.
    incident = closure(type="incident", incident_kind="accident", ends_at=None, detour=None)
    assert (
        ok(await client.post(f"{API}/situations", json=incident, headers=h), 201)["ends_at"] is None
    )


async def test_the_clock_activates_and_ends_situations(
    client: httpx.AsyncClient,
    admin: Person,
    system: Context,
    runtime: Runtime,
    tmp_path: Path,
) -> None:
    h = admin.headers
    now = utcnow()
    planned = ok(
        await client.post(
            f"{API}/situations",
            json=closure(
                starts_at=_iso(now + timedelta(hours=1)), ends_at=_iso(now + timedelta(hours=3))
            ),
            headers=h,
        ),
        201,
    )
    assert planned["status"] == "planned"
    moved = await advance(system, now + timedelta(hours=1, minutes=1))
    assert (moved.activated, moved.ended) == ([planned["id"]], [])
    assert (
        ok(await client.get(f"{API}/situations/{planned['id']}", headers=h))["status"] == "active"
    )
    # Published while active: the DATEX II document, public, carries it.
    public = await client.get("/api/datex2/v3/situations")
    assert public.status_code == 200
    assert public.headers["content-type"] == "application/xml"
    root = ET.fromstring(public.content)  # noqa: S314 - our own document
    records = root.findall("sit:situation/sit:situationRecord", datex.NS)
    assert [r.get(f"{{{datex.NS['xsi']}}}type") for r in records] == [
        "sit:RoadOrCarriagewayOrLaneManagement",
        "sit:ReroutingManagement",
    ]
    etag = public.headers["etag"]
    assert (
        await client.get("/api/datex2/v3/situations", headers={"If-None-Match": etag})
    ).status_code == 304
    # The same document as a file (what ``beffroi roads datex --out`` writes).
    drop = tmp_path / "drop"
    drop.mkdir()
    assert await export.write_datex(system, drop / "datex.xml") == len(public.content)
    written = await asyncio.to_thread((drop / "datex.xml").read_bytes)
    assert written == public.content
    assert [p.name for p in drop.iterdir()] == ["datex.xml"]
    moved = await advance(system, now + timedelta(hours=3, minutes=1))
    assert (moved.activated, moved.ended) == ([], [planned["id"]])
    assert (await advance(system, now + timedelta(hours=4))).ended == []
    gone = ET.fromstring((await client.get("/api/datex2/v3/situations")).content)  # noqa: S314 - our own document
    assert gone.findall("sit:situation", datex.NS) == []
    listed = ok(await client.get(f"{API}/situations", params={"status": "ended"}, headers=h))
    assert [s["id"] for s in listed] == [planned["id"]]
    audited = [e for e in await audited_since(runtime, 0) if e.action == "road_situation.lifecycle"]
    assert [e.details for e in audited] == [
        {"activated": [planned["id"]], "ended": []},
        {"activated": [], "ended": [planned["id"]]},
    ]


async def test_commune_staff_see_and_change_only_their_communes(
    client: httpx.AsyncClient, admin: Person, system: Context, runtime: Runtime
) -> None:
    talant = await make_person(system, "op-talant", [Role.OPERATOR], communes=["talant"])
    viewer = await make_person(system, "viewer", [Role.VIEWER])
    mine = ok(await client.post(f"{API}/situations", json=closure(), headers=talant.headers), 201)
    other = ok(
        await client.post(
            f"{API}/situations", json=closure(geometry=CHENOVE_LINE), headers=admin.headers
        ),
        201,
    )
    across_line = {"type": "LineString", "coordinates": [[5.005, 47.337], [5.041, 47.322]]}
    across = ok(
        await client.post(
            f"{API}/situations", json=closure(geometry=across_line), headers=admin.headers
        ),
        201,
    )
    assert "dijon" in across["communes"]
    assert "talant" in across["communes"]
    seen = ok(await client.get(f"{API}/situations", headers=talant.headers))
    assert sorted(s["id"] for s in seen) == sorted([mine["id"], across["id"]])
    assert (
        await client.get(f"{API}/situations/{other['id']}", headers=talant.headers)
    ).status_code == 404
    # Crossing Dijon too, it is not theirs to change; Chenôve's is not theirs to see.
    body = {"version": 1, "reason": "x"}
    assert (
        await client.post(
            f"{API}/situations/{across['id']}/cancel", json=body, headers=talant.headers
        )
    ).status_code == 403
    assert (
        await client.post(
            f"{API}/situations/{other['id']}/cancel", json=body, headers=talant.headers
        )
    ).status_code == 404
    refused = await client.post(
        f"{API}/situations", json=closure(geometry=CHENOVE_LINE), headers=talant.headers
    )
    assert refused.status_code == 403
    cancelled = ok(
        await client.post(
            f"{API}/situations/{mine['id']}/cancel", json=body, headers=talant.headers
        )
    )
    assert cancelled["status"] == "cancelled"
    # A viewer reads, and changes nothing.
    assert len(ok(await client.get(f"{API}/situations", headers=viewer.headers))) == 3
    assert (
        await client.post(f"{API}/situations", json=closure(), headers=viewer.headers)
    ).status_code == 403
