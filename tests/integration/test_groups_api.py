"""Groups of assets, by list and by polygon."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from beffroi.core.context import Runtime
from tests.integration.test_assets_api import cabinet, light
from tests.support import Person, audit_seq, audited_since, table_rows

pytestmark = pytest.mark.asyncio

# A square around Talant's centre (5.005, 47.337).
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[5.0, 47.33], [5.01, 47.33], [5.01, 47.34], [5.0, 47.34], [5.0, 47.33]]],
}


async def _fleet(client: httpx.AsyncClient, admin: Person) -> None:
    await client.post("/api/v1/assets", json=cabinet(), headers=admin.headers)
    for n, lon in enumerate([5.002, 5.006, 5.02]):
        body = light(f"SL-TAL-{n}", location={"type": "Point", "coordinates": [lon, 47.338]})
        r = await client.post("/api/v1/assets", json=body, headers=admin.headers)
        assert r.status_code == 201, r.text


async def test_list_group(client: httpx.AsyncClient, admin: Person) -> None:
    await _fleet(client, admin)
    h = admin.headers
    body: dict[str, Any] = {
        "name": "Rue des Lilas",
        "commune": "Talant",
        "kind": "list",
        "asset_ids": ["SL-TAL-0", "SL-TAL-1"],
    }
    r = await client.post("/api/v1/groups", json=body, headers=h)
    assert r.status_code == 201, r.text
    group = r.json()
    assert group["member_count"] == 2
    r = await client.patch(
        f"/api/v1/groups/{group['id']}",
        json={"add": ["SL-TAL-2"], "remove": ["SL-TAL-0"]},
        headers=h,
    )
    assert r.json()["member_count"] == 2
    members = await client.get(f"/api/v1/groups/{group['id']}/members", headers=h)
    assert members.json() == ["SL-TAL-1", "SL-TAL-2"]
    r = await client.post("/api/v1/groups", json=body, headers=h)
    assert r.status_code == 409
    r = await client.post(
        "/api/v1/groups", json={**body, "name": "x", "asset_ids": ["NOPE"]}, headers=h
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "asset_ids[0]"
    assert (await client.delete(f"/api/v1/groups/{group['id']}", headers=h)).status_code == 204
    assert (await client.get(f"/api/v1/groups/{group['id']}", headers=h)).status_code == 404


async def test_refused_changes_are_audited_and_write_nothing(
    client: httpx.AsyncClient, admin: Person, runtime: Runtime
) -> None:
    await _fleet(client, admin)
    h = admin.headers
    body: dict[str, Any] = {
        "name": "Lilas",
        "commune": "Talant",
        "kind": "list",
        "asset_ids": ["SL-TAL-0"],
    }
    lilas = (await client.post("/api/v1/groups", json=body, headers=h)).json()
    other = {**body, "name": "Roses"}
    roses = (await client.post("/api/v1/groups", json=other, headers=h)).json()
    tables = ("asset_groups", "asset_group_members")
    before, seq = await table_rows(runtime, *tables), await audit_seq(runtime)

    r = await client.post("/api/v1/groups", json=body, headers=h)
    assert r.status_code == 409, r.text
    # Members added and removed with a name already taken: none of it is kept.
    r = await client.patch(
        f"/api/v1/groups/{roses['id']}",
        json={"name": "Lilas", "add": ["SL-TAL-1"], "remove": ["SL-TAL-0"]},
        headers=h,
    )
    assert r.status_code == 409, r.text
    r = await client.patch(
        f"/api/v1/groups/{lilas['id']}", json={"add": ["SL-TAL-1", "NOPE"]}, headers=h
    )
    assert r.status_code == 422, r.text
    assert (await client.delete("/api/v1/groups/999999", headers=h)).status_code == 404

    assert await table_rows(runtime, *tables) == before
    refusals = await audited_since(runtime, seq)
    assert [(e.action, e.target_type, e.target_id, e.outcome) for e in refusals] == [
        ("group.create.refused", "group", None, "denied"),
        ("group.update.refused", "group", str(roses["id"]), "denied"),
        ("group.update.refused", "group", str(lilas["id"]), "denied"),
        ("group.delete.refused", "group", "999999", "denied"),
    ]
    assert refusals[0].details == {"error": "a group named 'Lilas' exists", "name": "Lilas"}
    assert refusals[1].details == {"error": "a group named 'Lilas' exists"}
    assert "'NOPE'" in refusals[2].details["error"]
    assert refusals[3].details == {"error": "group 999999 not found"}


async def test_polygon_group(client: httpx.AsyncClient, admin: Person) -> None:
    await _fleet(client, admin)
    body = {"name": "Centre de Talant", "commune": "talant", "kind": "polygon", "polygon": SQUARE}
    r = await client.post("/api/v1/groups", json=body, headers=admin.headers)
    assert r.status_code == 201, r.text
    members = await client.get(f"/api/v1/groups/{r.json()['id']}/members", headers=admin.headers)
    assert members.json() == ["LC-TAL-0001", "SL-TAL-0", "SL-TAL-1"]


@pytest.mark.parametrize(
    ("polygon", "field"),
    [
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, "polygon"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1]]]}, "polygon"),
        ({"type": "Polygon", "coordinates": [[[500, 0], [501, 1], [501, 0], [500, 0]]]}, "polygon"),
        ({"type": "Point", "coordinates": [0, 0]}, "polygon.type"),
    ],
)
async def test_bad_polygons_are_named(
    client: httpx.AsyncClient, admin: Person, polygon: dict[str, Any], field: str
) -> None:
    body = {"name": "bad", "kind": "polygon", "polygon": polygon}
    r = await client.post("/api/v1/groups", json=body, headers=admin.headers)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
