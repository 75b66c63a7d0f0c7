"""The operations log on both databases: entries written, amended (never changed),
searched and reported per desk; its chain verified and an edit in the database caught;
commune scope for a police officer; bad input refused naming its field, nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text

from beffroi.core.context import Runtime
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from tests.integration.test_camera_visibility import camera_body
from tests.support import Person, audit_seq, audited_since, make_person, run_cli, table_rows

pytestmark = pytest.mark.asyncio
API = "/api/v1/opslog"
TABLES = ("opslog_records", "opslog_links", "opslog_head")
TALANT_SQUARE = {
    "type": "Polygon",
    "coordinates": [[[5.00, 47.33], [5.01, 47.33], [5.01, 47.34], [5.00, 47.34], [5.00, 47.33]]],
}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def entry(**extra: Any) -> dict[str, Any]:
    return {
        "desk": "police",
        "category": "incident",
        "text": "Rixe devant la mairie, deux agents envoyés",
        "commune": "talant",
        **extra,
    }


def light(asset_id: str, commune: str) -> dict[str, Any]:
    lon, lat = (5.006, 47.292) if commune == "chenove" else (5.005, 47.337)
    return {
        "id": asset_id,
        "type": "streetlight",
        "name": f"Point lumineux {asset_id}",
        "commune": commune,
        "location": {"type": "Point", "coordinates": [lon, lat]},
        "attributes": {"lamp_type": "LED", "rated_power_w": 40},
    }


async def test_an_entry_amended_stays_as_written(
    client: httpx.AsyncClient, admin: Person, runtime: Runtime
) -> None:
    h = admin.headers
    ok(await client.post("/api/v1/assets", json=light("OPS-TAL-1", "talant"), headers=h), 201)
    seq = await audit_seq(runtime)
    made = ok(
        await client.post(
            f"{API}/entries",
            json=entry(asset_ids=["OPS-TAL-1"], place=TALANT_SQUARE, category="patrol"),
            headers=h,
        ),
        201,
    )
    assert made["asset_ids"] == ["OPS-TAL-1"]
    assert made["amendments"] == []
    assert made["place"]["type"] == "Polygon"
    assert made["author"] == "admin"
    before = await table_rows(runtime, "opslog_records")
    ok(
        await client.post(
            f"{API}/entries/{made['id']}/amendments", json={"text": "Trois agents"}, headers=h
        ),
        201,
    )
    shown = ok(
        await client.post(
            f"{API}/entries/{made['id']}/amendments", json={"text": "Fin 23 h 10"}, headers=h
        ),
        201,
    )
    assert [a["text"] for a in shown["amendments"]] == ["Trois agents", "Fin 23 h 10"]
    after = await table_rows(runtime, "opslog_records")
    # The entry's row is exactly as it was: the amendments are rows of their own.
    assert before["opslog_records"][0] == after["opslog_records"][0]
    assert len(after["opslog_records"]) == 3
    got = ok(await client.get(f"{API}/entries/{made['id']}", headers=h))
    assert got["text"] == made["text"]
    assert len(got["amendments"]) == 2
    # An amendment is not an entry: it is not amended, nor read, as one.
    assert (await client.get(f"{API}/entries/{made['id'] + 1}", headers=h)).status_code == 404
    actions = [e.action for e in await audited_since(runtime, seq)]
    assert actions == ["opslog_entry.create", "opslog_entry.amend", "opslog_entry.amend"]
    # No route changes or deletes an entry.
    for method in ("PUT", "PATCH", "DELETE"):
        answer = await client.request(method, f"{API}/entries/{made['id']}", headers=h)
        assert answer.status_code == 405
    # Follow-ups name an earlier entry.
    reply = ok(
        await client.post(
            f"{API}/entries", json=entry(follows=made["id"], category="information"), headers=h
        ),
        201,
    )
    assert reply["follows"] == made["id"]
    check = ok(await client.get(f"{API}/verify", headers=h))
    assert check == {"ok": True, "checked": 4, "problems": []}


async def test_an_edit_in_the_database_is_caught(
    client: httpx.AsyncClient, admin: Person, runtime: Runtime
) -> None:
    h = admin.headers
    for words in ("Premier", "Deuxième", "Troisième"):
        ok(await client.post(f"{API}/entries", json=entry(text=words), headers=h), 201)
    assert ok(await client.get(f"{API}/verify", headers=h))["ok"]
    async with runtime.db.write() as session:
        await session.execute(text("UPDATE opslog_records SET text = 'Rien' WHERE seq = 2"))
    check = ok(await client.get(f"{API}/verify", headers=h))
    assert not check["ok"]
    assert check["problems"] == ["entry 2: content does not match its hash"]
    # Auditors with a shell on the server have the same walk.
    env = {"BEFFROI_DATABASE_URL": runtime.settings.database_url}
    walked = await run_cli("opslog", "verify", env=env)
    assert walked.returncode == 1, walked.stdout + walked.stderr
    assert "entry 2: content does not match its hash" in walked.stdout + walked.stderr


async def test_search_and_the_daily_report(
    client: httpx.AsyncClient, admin: Person, runtime: Runtime
) -> None:
    h = admin.headers
    zone = ZoneInfo(runtime.settings.timezone)
    day = (utcnow() - timedelta(days=2)).astimezone(zone).date()
    # Just after local midnight: in ``day`` locally, the evening before in UTC.
    early = datetime(day.year, day.month, day.day, 0, 30, tzinfo=zone).astimezone(UTC)
    ok(await client.post("/api/v1/assets", json=light("OPS-TAL-2", "talant"), headers=h), 201)
    bodies = [
        entry(occurred_at=early.isoformat(), asset_ids=["OPS-TAL-2"]),
        entry(occurred_at=(early + timedelta(hours=5)).isoformat(), category="call"),
        entry(occurred_at=(early + timedelta(hours=6)).isoformat(), desk="snow", text="Salage"),
        entry(occurred_at=(early - timedelta(hours=1)).isoformat(), text="La veille"),
        entry(commune="chenove", text="Chenôve: vitrine brisée"),
    ]
    ids = [ok(await client.post(f"{API}/entries", json=b, headers=h), 201)["id"] for b in bodies]
    ok(
        await client.post(
            f"{API}/entries/{ids[1]}/amendments", json={"text": "VITRINE"}, headers=h
        ),
        201,
    )

    def found(page: dict[str, Any]) -> list[int]:
        return [item["id"] for item in page["items"]]

    everything = ok(await client.get(f"{API}/entries", headers=h))
    assert found(everything) == sorted(ids, reverse=True)
    by_desk = ok(await client.get(f"{API}/entries", params={"desk": "snow"}, headers=h))
    assert found(by_desk) == [ids[2]]
    by_asset = ok(await client.get(f"{API}/entries", params={"asset_id": "OPS-TAL-2"}, headers=h))
    assert found(by_asset) == [ids[0]]
    # Text is looked for in amendments too, in any case.
    by_text = ok(await client.get(f"{API}/entries", params={"q": "vitrine"}, headers=h))
    assert found(by_text) == [ids[4], ids[1]]
    chenove = ok(await client.get(f"{API}/entries", params={"commune": "Chenôve"}, headers=h))
    assert found(chenove) == [ids[4]]
    since = {"since": early.isoformat(), "until": (early + timedelta(hours=6)).isoformat()}
    assert found(ok(await client.get(f"{API}/entries", params=since, headers=h))) == [
        ids[1],
        ids[0],
    ]
    first = ok(await client.get(f"{API}/entries", params={"limit": 2}, headers=h))
    assert found(first) == [ids[4], ids[3]]
    assert first["next_cursor"]
    rest = ok(
        await client.get(f"{API}/entries", params={"cursor": first["next_cursor"]}, headers=h)
    )
    assert found(rest) == [ids[2], ids[1], ids[0]]
    assert rest["next_cursor"] is None
    bad = await client.get(f"{API}/entries", params={"desk": "bakery"}, headers=h)
    assert bad.status_code == 422
    assert "desk" in bad.text

    report = ok(
        await client.get(
            f"{API}/daily", params={"day": day.isoformat(), "desk": "police"}, headers=h
        )
    )
    assert [e["id"] for e in report["entries"]] == [ids[0], ids[1]]
    assert report["counts"]["incident"] == 1
    assert report["counts"]["call"] == 1
    assert report["counts"]["patrol"] == 0
    assert report["entries"][1]["amendments"][0]["text"] == "VITRINE"
    assert report["timezone"] == runtime.settings.timezone


async def test_a_talant_police_officer_keeps_to_talant(
    client: httpx.AsyncClient, admin: Person, runtime: Runtime, system: Any
) -> None:
    h = admin.headers
    ok(await client.post("/api/v1/assets", json=light("OPS-CHE-1", "chenove"), headers=h), 201)
    ok(await client.post("/api/v1/assets", json=light("OPS-TAL-3", "talant"), headers=h), 201)
    theirs = ok(
        await client.post(
            f"{API}/entries", json=entry(commune="chenove", text="Chez eux"), headers=h
        ),
        201,
    )
    officer = await make_person(system, "police-talant", [Role.POLICE], communes=["talant"])
    p = officer.headers
    mine = ok(
        await client.post(f"{API}/entries", json=entry(asset_ids=["OPS-TAL-3"]), headers=p), 201
    )
    assert mine["commune"] == "talant"
    assert mine["author"] == "police-talant"
    listed = ok(await client.get(f"{API}/entries", headers=p))
    assert [i["id"] for i in listed["items"]] == [mine["id"]]
    assert (await client.get(f"{API}/entries/{theirs['id']}", headers=p)).status_code == 404
    amended = await client.post(
        f"{API}/entries/{theirs['id']}/amendments", json={"text": "x"}, headers=p
    )
    assert amended.status_code == 404
    before = await table_rows(runtime, *TABLES)
    assert (
        await client.post(f"{API}/entries", json=entry(commune="chenove"), headers=p)
    ).status_code == 403
    linked = await client.post(f"{API}/entries", json=entry(asset_ids=["OPS-CHE-1"]), headers=p)
    ghost = await client.post(f"{API}/entries", json=entry(asset_ids=["OPS-GHOST"]), headers=p)
    assert linked.status_code == ghost.status_code == 422
    assert linked.json()["errors"][0]["field"] == "asset_ids"
    assert linked.json()["errors"][0]["message"] == "no asset OPS-CHE-1"
    follows = await client.post(f"{API}/entries", json=entry(follows=theirs["id"]), headers=p)
    assert follows.status_code == 422
    assert follows.json()["errors"][0]["field"] == "follows"
    # Verifying the chain is for metropolis-wide auditors.
    assert (await client.get(f"{API}/verify", headers=p)).status_code == 403
    assert await table_rows(runtime, *TABLES) == before
    # Police sends no equipment command.
    me = ok(await client.get("/api/v1/auth/me", headers=p))
    assert "command:send" not in me["permissions"]
    assert "opslog:write" in me["permissions"]


async def test_a_viewer_cannot_write_and_bad_input_is_refused(
    client: httpx.AsyncClient, admin: Person, runtime: Runtime, system: Any
) -> None:
    viewer = await make_person(system, "viewer", [Role.VIEWER])
    before = await table_rows(runtime, *TABLES)
    seq = await audit_seq(runtime)
    assert (
        await client.post(f"{API}/entries", json=entry(), headers=viewer.headers)
    ).status_code == 403
    assert (await client.get(f"{API}/entries", headers=viewer.headers)).status_code == 403
    refused = [e.action for e in await audited_since(runtime, seq)]
    assert refused == ["opslog_entry.create.refused", "request.denied"]
    h = admin.headers
    open_ring = {
        "type": "Polygon",
        "coordinates": [[[5.00, 47.33], [5.01, 47.33], [5.01, 47.34], [5.00, 47.34]]],
    }
    cases = {
        "desk": entry(desk="bakery"),
        "text": entry(text="x" * 4001),
        "place": entry(place=open_ring),
        "alarm_ids": entry(alarm_ids=[987_654]),
        "occurred_at": entry(occurred_at=(utcnow() + timedelta(hours=2)).isoformat()),
        "commune": entry(commune="atlantis"),
    }
    for field, body in cases.items():
        answer = await client.post(f"{API}/entries", json=body, headers=h)
        assert answer.status_code == 422, (field, answer.text)
        assert field in answer.text, (field, answer.text)
    far = entry(place={"type": "Point", "coordinates": [2.35, 48.85]})
    answer = await client.post(f"{API}/entries", json=far, headers=h)
    assert answer.status_code == 422
    assert "outside the metropolis" in answer.text
    assert await table_rows(runtime, *TABLES) == before


async def test_a_camera_named_is_shown_only_to_whoever_sees_cameras(
    client: httpx.AsyncClient, admin: Person, system: Any
) -> None:
    h = admin.headers
    ok(await client.post("/api/v1/assets", json=camera_body("CAM-OPS-1"), headers=h), 201)
    ok(await client.post("/api/v1/assets", json=light("OPS-TAL-4", "talant"), headers=h), 201)
    named = entry(desk="video", asset_ids=["CAM-OPS-1", "OPS-TAL-4"])
    made = ok(await client.post(f"{API}/entries", json=named, headers=h), 201)
    assert made["asset_ids"] == ["CAM-OPS-1", "OPS-TAL-4"]
    operator = await make_person(system, "ops-operator", [Role.OPERATOR], communes=["talant"])
    shown = ok(await client.get(f"{API}/entries/{made['id']}", headers=operator.headers))
    assert shown["asset_ids"] == ["OPS-TAL-4"]
    by_camera = {"asset_id": "CAM-OPS-1"}
    found = ok(await client.get(f"{API}/entries", params=by_camera, headers=operator.headers))
    assert found["items"] == []
    refused = await client.post(
        f"{API}/entries", json=entry(asset_ids=["CAM-OPS-1"]), headers=operator.headers
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["message"] == "no asset CAM-OPS-1"
