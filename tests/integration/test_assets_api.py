"""The equipment registry through the REST API, on both databases."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from tests.support import Person, audit_seq, audited_since, make_person, table_rows

pytestmark = pytest.mark.asyncio


def cabinet(asset_id: str = "LC-TAL-0001", commune: str = "Talant", **extra: Any) -> dict[str, Any]:
    """A valid lighting cabinet body."""
    return {
        "id": asset_id,
        "type": "lighting_cabinet",
        "name": f"Armoire {asset_id}",
        "commune": commune,
        "location": {"type": "Point", "coordinates": [5.005, 47.337]},
        "attributes": {"circuits": 4, "phases": 3},
        **extra,
    }


def light(asset_id: str, parent: str | None = "LC-TAL-0001", **extra: Any) -> dict[str, Any]:
    """A valid streetlight body in Talant."""
    return {
        "id": asset_id,
        "type": "streetlight",
        "name": f"Point lumineux {asset_id}",
        "commune": "talant",
        "location": {"type": "Point", "coordinates": [5.006, 47.338]},
        "parent_id": parent,
        "attributes": {"lamp_type": "LED", "rated_power_w": 40, "dimmable": True},
        "tags": ["rue", "led"],
        **extra,
    }


async def test_create_read_update_decommission(client: httpx.AsyncClient, admin: Person) -> None:
    h = admin.headers
    r = await client.post("/api/v1/assets", json=cabinet(), headers=h)
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/assets", json=light("SL-TAL-1"), headers=h)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["commune"] == "talant"
    assert body["location"]["coordinates"] == [5.006, 47.338]
    assert body["tags"] == ["led", "rue"]
    assert body["version"] == 1

    r = await client.patch(
        "/api/v1/assets/SL-TAL-1", json={"name": "Rue des Lilas 3", "version": 1}, headers=h
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Rue des Lilas 3"
    assert r.json()["version"] == 2

    stale = await client.patch(
        "/api/v1/assets/SL-TAL-1", json={"name": "x", "version": 1}, headers=h
    )
    assert stale.status_code == 409
    assert stale.headers["content-type"] == "application/problem+json"

    # The cabinet still parents a light in service.
    r = await client.post(
        "/api/v1/assets/LC-TAL-0001/decommission", json={"reason": "replaced"}, headers=h
    )
    assert r.status_code == 409
    r = await client.post(
        "/api/v1/assets/SL-TAL-1/decommission", json={"reason": "mast hit by a truck"}, headers=h
    )
    assert r.status_code == 200
    assert r.json()["status"] == "decommissioned"
    listed = await client.get("/api/v1/assets", headers=h)
    assert [a["id"] for a in listed.json()["items"]] == ["LC-TAL-0001"]
    listed = await client.get("/api/v1/assets?status=decommissioned", headers=h)
    assert [a["id"] for a in listed.json()["items"]] == ["SL-TAL-1"]

    audit = await client.get("/api/v1/audit?target_id=SL-TAL-1", headers=h)
    actions = [e["action"] for e in audit.json()["items"]]
    # The stale update was refused, and that is audited too.
    assert actions == ["asset.decommission", "asset.update.refused", "asset.update", "asset.create"]
    assert audit.json()["items"][0]["reason"] == "mast hit by a truck"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (light("bad id!"), "id"),
        (light("SL-1", type="lamppost"), "type"),
        (light("SL-1", commune="Gotham"), "commune"),
        (light("SL-1", parent="LC-NOPE"), "parent_id"),
        (light("SL-1", attributes={"lamp_type": "candle"}), "attributes.lamp_type"),
        (light("SL-1", attributes={"colour": "red"}), "attributes.colour"),
        (
            light("SL-1", location={"type": "Point", "coordinates": [500, 47]}),
            "location.coordinates.0",
        ),
        (light("SL-1", status="broken"), "status"),
    ],
)
async def test_bad_input_names_the_field(
    client: httpx.AsyncClient, admin: Person, body: dict[str, Any], field: str
) -> None:
    await client.post("/api/v1/assets", json=cabinet(), headers=admin.headers)
    r = await client.post("/api/v1/assets", json=body, headers=admin.headers)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert problem["status"] == 422
    assert field in [e["field"] for e in problem["errors"]], problem


async def test_refused_changes_are_audited_and_write_nothing(
    client: httpx.AsyncClient, admin: Person, runtime: Runtime
) -> None:
    h = admin.headers
    await client.post("/api/v1/assets", json=cabinet(), headers=h)
    await client.post("/api/v1/assets", json=light("SL-TAL-1"), headers=h)
    before, seq = await table_rows(runtime, "assets"), await audit_seq(runtime)

    bad_lamp = light("SL-TAL-2", attributes={"lamp_type": "candle"})
    assert (await client.post("/api/v1/assets", json=bad_lamp, headers=h)).status_code == 422
    # A good name sent with a bad commune: neither is written.
    r = await client.patch(
        "/api/v1/assets/SL-TAL-1", json={"name": "Renamed", "commune": "Gotham"}, headers=h
    )
    assert r.status_code == 422, r.text
    r = await client.post(
        "/api/v1/assets/LC-TAL-0001/decommission", json={"reason": "old"}, headers=h
    )
    assert r.status_code == 409, r.text
    # All or nothing: the good row of a file with a bad one is not written either.
    rows = [
        "id,type,name,commune,lon,lat,parent_id,attr.lamp_type",
        "SL-TAL-3,streetlight,PL 3,talant,5.005,47.337,LC-TAL-0001,LED",
        "SL-TAL-4,streetlight,PL 4,gotham,5.005,47.337,LC-TAL-0001,LED",
    ]
    csv_file = {**h, "content-type": "text/csv"}
    r = await client.post("/api/v1/assets/import", content="\n".join(rows), headers=csv_file)
    assert r.status_code == 422, r.text
    # A dry run changes nothing, refused or not: it is not audited.
    r = await client.post(
        "/api/v1/assets/import?dry_run=true", content="\n".join(rows), headers=csv_file
    )
    assert r.status_code == 422, r.text

    assert await table_rows(runtime, "assets") == before
    refusals = await audited_since(runtime, seq)
    assert [(e.action, e.target_type, e.target_id, e.outcome) for e in refusals] == [
        ("asset.create.refused", "asset", "SL-TAL-2", "denied"),
        ("asset.update.refused", "asset", "SL-TAL-1", "denied"),
        ("asset.decommission.refused", "asset", "LC-TAL-0001", "denied"),
        ("asset.import.refused", "asset", None, "denied"),
    ]
    create, update, decommission, file = (e.details for e in refusals)
    assert "candle" in create["error"]
    assert "Gotham" in update["error"]
    assert "still parents equipment" in decommission["error"]
    assert file == {"error": "import refused, nothing written: 1 error(s)", "source": "api:csv"}


async def test_parent_must_be_of_an_allowed_type(client: httpx.AsyncClient, admin: Person) -> None:
    h = admin.headers
    await client.post("/api/v1/assets", json=cabinet(), headers=h)
    await client.post("/api/v1/assets", json=light("SL-TAL-1"), headers=h)
    r = await client.post("/api/v1/assets", json=light("SL-TAL-2", parent="SL-TAL-1"), headers=h)
    assert r.status_code == 422
    assert "lighting_cabinet" in r.json()["errors"][0]["message"]


async def test_duplicate_id_is_a_conflict(client: httpx.AsyncClient, admin: Person) -> None:
    assert (
        await client.post("/api/v1/assets", json=cabinet(), headers=admin.headers)
    ).status_code == 201
    r = await client.post("/api/v1/assets", json=cabinet(), headers=admin.headers)
    assert r.status_code == 409


async def test_filters_pagination_and_geojson(client: httpx.AsyncClient, admin: Person) -> None:
    h = admin.headers
    await client.post("/api/v1/assets", json=cabinet(), headers=h)
    for n in range(7):
        await client.post("/api/v1/assets", json=light(f"SL-TAL-{n}"), headers=h)
    await client.post(
        "/api/v1/assets",
        json=cabinet(
            "LC-CHE-0001", "Chenôve", location={"type": "Point", "coordinates": [5.0, 47.29]}
        ),
        headers=h,
    )

    seen: list[str] = []
    cursor = None
    while True:
        params = {"type": "streetlight", "commune": "Talant", "limit": "3"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/assets", params=params, headers=h)).json()
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"SL-TAL-{n}" for n in range(7)]

    r = await client.get("/api/v1/assets?parent=LC-TAL-0001&q=tal-3", headers=h)
    assert [a["id"] for a in r.json()["items"]] == ["SL-TAL-3"]

    r = await client.get(
        "/api/v1/assets?bbox=4.99,47.28,5.001,47.30",
        headers={**h, "Accept": "application/geo+json"},
    )
    assert r.headers["content-type"] == "application/geo+json"
    collection = r.json()
    assert collection["type"] == "FeatureCollection"
    assert [f["id"] for f in collection["features"]] == ["LC-CHE-0001"]
    feature = collection["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [5.0, 47.29]}
    assert feature["properties"]["commune"] == "chenove"

    for bad, field in [
        ("bbox=1,2,3", "bbox"),
        ("cursor=%%%", "cursor"),
        ("commune=Gotham", "commune"),
    ]:
        r = await client.get(f"/api/v1/assets?{bad}", headers=h)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["errors"][0]["field"] == field


async def test_a_viewer_cannot_write(client: httpx.AsyncClient, system: Context) -> None:
    viewer = await make_person(system, "vera", [Role.VIEWER])
    r = await client.post("/api/v1/assets", json=cabinet(), headers=viewer.headers)
    assert r.status_code == 403
    assert r.json()["type"].endswith("permission-denied")


async def test_no_credentials_is_401(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/assets")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = await client.get("/api/v1/assets", headers={"Authorization": "Bearer bfr_forged"})
    assert r.status_code == 401


async def test_geojson_detail_matches_the_json_record(
    client: httpx.AsyncClient, admin: Person
) -> None:
    h = admin.headers
    await client.post("/api/v1/assets", json=cabinet(), headers=h)
    body = light("SL-TAL-1", installed_on="2021-03-04", manufacturer="Signify", model="Luma")
    await client.post("/api/v1/assets", json=body, headers=h)
    record = (await client.get("/api/v1/assets/SL-TAL-1", headers=h)).json()
    r = await client.get("/api/v1/assets?format=geojson&detail=true&type=streetlight", headers=h)
    (feature,) = r.json()["features"]
    props = feature["properties"]
    assert feature["geometry"]["coordinates"] == record["location"]["coordinates"]
    for key in (
        "attributes",
        "manufacturer",
        "model",
        "installed_on",
        "tags",
        "parent_id",
        "status",
    ):
        assert props[key] == record[key], key
    assert props["commune"] == record["commune"]


async def test_geojson_etag_is_never_stale(client: httpx.AsyncClient, admin: Person) -> None:
    h = {**admin.headers, "Accept": "application/geo+json"}
    await client.post("/api/v1/assets", json=cabinet(), headers=admin.headers)
    first = await client.get("/api/v1/assets", headers=h)
    etag = first.headers["etag"]
    again = await client.get("/api/v1/assets", headers={**h, "If-None-Match": etag})
    assert again.status_code == 304
    await client.patch(
        "/api/v1/assets/LC-TAL-0001", json={"name": "Renamed"}, headers=admin.headers
    )
    changed = await client.get("/api/v1/assets", headers={**h, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()["features"][0]["properties"]["name"] == "Renamed"
    # Another query gets its own entity tag.
    other = await client.get("/api/v1/assets?commune=talant", headers=h)
    assert other.headers["etag"] != changed.headers["etag"]


async def test_the_export_is_written_as_it_is_read(
    client: httpx.AsyncClient, admin: Person, runtime: Any, system: Context
) -> None:
    """The export used to read the whole registry into memory before writing a byte: it
    now holds one page at a time (the first chunk is out after one page is read)."""
    from sqlalchemy import event

    from beffroi.assets import importing, reading
    from beffroi.assets.filters import AssetFilter
    from beffroi.assets.io import stream
    from beffroi.simulator.fleet import generate_fleet

    fleet = list(enumerate(generate_fleet("dijon", scale=0.002, seed=4), start=1))
    await importing.import_assets(system, fleet, source="tests")
    reads = 0

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        nonlocal reads
        reads += (
            statement.lstrip().upper().startswith("SELECT") and "FROM ASSETS" in statement.upper()
        )

    engine = runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        chunks = stream(reading.pages(system, AssetFilter(), chunk=10), "csv")
        header = await anext(chunks)
        first_rows = await anext(chunks)
        assert header.startswith("id,type")
        assert first_rows.count("\n") == 10
        assert reads == 1, "more than one page read before the first rows were written"
        rest = [chunk async for chunk in chunks]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert sum(c.count("\n") for c in [first_rows, *rest]) == len(fleet)
    r = await client.get("/api/v1/assets/export?format=csv", headers=admin.headers)
    assert r.status_code == 200
    assert r.text.count("\n") == len(fleet) + 1
