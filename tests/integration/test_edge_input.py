"""Input no layer can store is refused at the edge with a 422 naming it, never a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.support import Person

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("GET", "/api/v1/assets?q=a%00b", None, "query"),
        ("GET", "/api/v1/assets/A%00B", None, "path"),
        ("POST", "/api/v1/groups", {"name": "x\u0000y", "kind": "list"}, "body"),
        ("POST", "/api/v1/tokens", {"name": "\u0000"}, "body"),
        ("GET", "/api/v1/groups/99999999999", None, "group_id"),
        ("DELETE", "/api/v1/tokens/99999999999", None, "token_id"),
        ("GET", "/api/v1/audit?before=99999999999999999999", None, "before"),
        ("GET", "/api/v1/audit?since=2020-01-01T00:00:00", None, "since"),
        (
            "POST",
            "/api/v1/communes",
            {"name": "Big", "lat": 47, "lon": 5, "population": 2**40},
            "population",
        ),
    ],
)
async def test_unstorable_input_is_a_named_422(
    client: httpx.AsyncClient, admin: Person, method: str, url: str, body: object, field: str
) -> None:
    r = await client.request(method, url, json=body, headers=admin.headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]], r.json()


async def test_commune_names_stay_unique_on_import(
    client: httpx.AsyncClient, admin: Person
) -> None:
    body = [{"name": "Talant", "code": "talant-bis", "lat": 47.3, "lon": 5.0}]
    r = await client.put("/api/v1/communes", json=body, headers=admin.headers)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "[0].name"


async def test_state_of_a_decommissioned_asset(client: httpx.AsyncClient, admin: Person) -> None:
    from tests.integration.test_assets_api import cabinet

    await client.post("/api/v1/assets", json=cabinet(), headers=admin.headers)
    await client.post(
        "/api/v1/assets/LC-TAL-0001/decommission", json={"reason": "gone"}, headers=admin.headers
    )
    r = await client.get("/api/v1/assets/LC-TAL-0001/state", headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["online"] is None
