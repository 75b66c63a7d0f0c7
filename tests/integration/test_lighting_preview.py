"""The program editor's preview and the calendar's days through the API, on both
databases: unsaved steps drawn over a lighting day, errors naming the field, the commune's
position and scope, and which program each lighting day runs."""

from __future__ import annotations

import httpx
import pytest

from beffroi.core.context import Context
from beffroi.core.principal import Role
from tests.integration.test_lighting import API, NIGHT, _library, ok
from tests.support import Person, make_person

pytestmark = pytest.mark.asyncio


async def test_unsaved_steps_are_previewed_over_a_lighting_day(
    client: httpx.AsyncClient, admin: Person
) -> None:
    h = admin.headers
    body = {"steps": NIGHT, "day": "2026-12-14", "every_min": 10}
    preview = ok(await client.post(f"{API}/preview", json=body, headers=h))
    assert preview["day"] == "2026-12-14"
    assert preview["commune"] is None
    assert (preview["start"], preview["end"]) == ("2026-12-14T11:00:00Z", "2026-12-15T11:00:00Z")
    assert preview["sunset"].startswith("2026-12-14T15:")  # about 16:50 in Dijon
    assert preview["sunrise"].startswith("2026-12-15T07:")  # about 08:20
    assert [s["local_time"] for s in preview["steps"]][1:3] == ["23:00", "05:00"]
    assert preview["errors"] == []
    levels = {p["local_time"]: p["level_pct"] for p in preview["points"]}
    assert (levels["12:00"], levels["20:00"], levels["23:00"], levels["02:00"]) == (0, 100, 100, 50)
    assert levels["23:05"] == 50  # the end of the five-minute ramp is a point of its own
    assert len(preview["points"]) > 24 * 6
    # Nothing was saved.
    assert ok(await client.get(f"{API}/programs", headers=h)) == []


async def test_preview_errors_name_the_field(client: httpx.AsyncClient, admin: Person) -> None:
    h = admin.headers
    bad = [*NIGHT[:2], {"anchor": "time", "at": "02:00", "level_pct": 120}]
    r = await client.post(f"{API}/preview", json={"steps": bad}, headers=h)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["steps.2.level_pct"]
    r = await client.post(f"{API}/preview", json={"steps": NIGHT, "every_min": 0}, headers=h)
    assert [e["field"] for e in r.json()["errors"]] == ["every_min"]
    r = await client.post(f"{API}/preview", json={"steps": NIGHT, "day": "9999-12-31"}, headers=h)
    assert [e["field"] for e in r.json()["errors"]] == ["day"]
    r = await client.post(f"{API}/preview", json={"steps": NIGHT, "commune": "Paris"}, headers=h)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["commune"]
    # Out of order in June: drawn, with the timing error the save would refuse.
    june = [
        {"anchor": "sunset", "level_pct": 100},
        {"anchor": "time", "at": "21:00", "level_pct": 50},
    ]
    body = {"steps": june, "day": "2026-06-20"}
    preview = ok(await client.post(f"{API}/preview", json=body, headers=h))
    assert [e["field"] for e in preview["errors"]] == ["steps.1.at"]
    assert (
        ok(await client.post(f"{API}/preview", json={**body, "day": "2026-12-20"}, headers=h))[
            "errors"
        ]
        == []
    )


async def test_preview_at_a_commune_in_scope(
    client: httpx.AsyncClient, admin: Person, system: Context
) -> None:
    body = {"steps": NIGHT, "day": "2026-12-14", "commune": "Chenôve"}
    preview = ok(await client.post(f"{API}/preview", json=body, headers=admin.headers))
    assert preview["commune"] == "chenove"
    talant = await make_person(system, "op-talant", [Role.OPERATOR], communes=["talant"])
    r = await client.post(f"{API}/preview", json=body, headers=talant.headers)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["commune"]
    mine = ok(
        await client.post(
            f"{API}/preview", json={**body, "commune": "talant"}, headers=talant.headers
        )
    )
    assert mine["commune"] == "talant"


async def test_which_program_each_lighting_day_runs(
    client: httpx.AsyncClient, admin: Person, system: Context
) -> None:
    h = admin.headers
    ids = await _library(client, admin)
    url = f"{API}/calendars/{ids['calendar']}/days"
    days = ok(await client.get(url, params={"start": "2027-07-12", "days": 3}, headers=h))
    assert days["version"] == 1
    assert [(d["day"], d["program_id"], d["rule_index"]) for d in days["days"]] == [
        ("2027-07-12", ids["night"], None),
        ("2027-07-13", ids["night"], None),
        ("2027-07-14", ids["full"], 1),
    ]
    year = ok(await client.get(url, params={"start": "2026-12-01", "days": 365}, headers=h))
    special = [d["day"] for d in year["days"] if d["rule_index"] is not None]
    assert special == ["2026-12-24", "2027-07-14"]
    r = await client.get(url, params={"start": "2026-12-01", "days": 401}, headers=h)
    assert [e["field"] for e in r.json()["errors"]] == ["days"]
    r = await client.get(url, params={"start": "0001-01-01"}, headers=h)
    assert [e["field"] for e in r.json()["errors"]] == ["start"]
    r = await client.get(f"{API}/calendars/9999/days", params={"start": "2026-12-01"}, headers=h)
    assert r.status_code == 404
    # A Talant calendar is unknown to Chenôve.
    body = {"name": "Talant", "commune": "talant", "default_program_id": ids["night"]}
    cal = ok(await client.post(f"{API}/calendars", json=body, headers=h), 201)
    chenove = await make_person(system, "op-chenove", [Role.OPERATOR], communes=["chenove"])
    r = await client.get(
        f"{API}/calendars/{cal['id']}/days", params={"start": "2026-12-01"}, headers=chenove.headers
    )
    assert r.status_code == 404
