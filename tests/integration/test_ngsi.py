"""The NGSI-LD read facade: answers checked against the @context they send (expanded with
pyld), keyValues and normalized forms, queries by type, q and geometry, temporal queries,
bad queries named, commune scope and cameras."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from pyld import jsonld

from beffroi.assets.importing import import_assets
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.ngsi import service
from tests.integration.test_ingest import message, pipeline_for
from tests.support import Person, make_person

pytestmark = pytest.mark.asyncio

NGSI = "/ngsi-ld/v1"
CORE = "https://uri.etsi.org/ngsi-ld/"
LD = {"Accept": "application/ld+json"}
TALANT_CENTRE = (5.005, 47.337)
CHENOVE_CENTRE = (5.006, 47.292)


def _asset(
    asset_id: str,
    type_: str,
    commune: str,
    where: tuple[float, float],
    parent: str | None = None,
    **attributes: Any,
) -> AssetCreate:
    return AssetCreate(
        id=asset_id,
        type=type_,
        name=f"name of {asset_id}",
        commune=commune,
        location=Point(coordinates=where),
        parent_id=parent,
        attributes=attributes,
    )


async def _fleet(system: Context, runtime: Runtime) -> datetime:
    """Talant: a cabinet, two lights (one lit), a car park, a camera; Chenôve: a light and
    a traffic counter. Readings every 10 minutes over the last two hours; returns the
    first reading's time."""
    lon, lat = TALANT_CENTRE
    items = [
        _asset("LC-T", "lighting_cabinet", "talant", (lon, lat)),
        _asset("SL-T1", "streetlight", "talant", (lon + 0.001, lat), "LC-T", mounting_height_m=8),
        _asset("SL-T2", "streetlight", "talant", (lon + 0.02, lat), "LC-T", mounting_height_m=6),
        _asset("CP-T", "car_park", "talant", (lon, lat + 0.002), capacity=400),
        _asset("CAM-T", "camera", "talant", (lon, lat - 0.001)),
        _asset("SL-C1", "streetlight", "chenove", CHENOVE_CENTRE),
        _asset("TF-C1", "traffic_counter", "chenove", CHENOVE_CENTRE),
    ]
    await import_assets(system, list(enumerate(items, 1)))
    start = (utcnow() - timedelta(hours=2)).replace(second=0, microsecond=0)
    pipeline, _ = await pipeline_for(runtime)
    messages = []
    values: dict[str, Callable[[int], dict[str, float]]] = {
        "SL-T1": lambda i: {"level_pct": 100.0, "power_w": 40.0 + i},
        "SL-T2": lambda i: {"level_pct": 0.0, "power_w": 0.0},
        "CP-T": lambda i: {"free_spaces": 100 + i},
        "SL-C1": lambda i: {"level_pct": 100.0, "power_w": 35.0},
        "TF-C1": lambda i: {"count": 10 * i},
    }
    for n, (asset_id, make) in enumerate(values.items()):
        readings = [
            {"ts": (start + timedelta(minutes=10 * i)).isoformat(), "values": make(i)}
            for i in range(12)
        ]
        messages.append(message(n + 1, f"devices/{asset_id}/telemetry", readings))
    await pipeline.process(messages)
    return start


async def _context(client: httpx.AsyncClient, person: Person) -> dict[str, Any]:
    r = await client.get(f"{NGSI}/jsonldContexts/beffroi.jsonld", headers=person.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/ld+json")
    document: dict[str, Any] = r.json()
    return document


def _expand(document: Any, context: dict[str, Any]) -> list[dict[str, Any]]:
    """Expand a JSON-LD answer, its @context served by the loader (no network)."""

    def loader(url: str, options: Any = None) -> dict[str, Any]:
        assert url.endswith("/ngsi-ld/v1/jsonldContexts/beffroi.jsonld"), url
        return {"contentType": "application/ld+json", "contextUrl": None,
                "documentUrl": url, "document": context}  # fmt: skip

    expand: Any = jsonld.expand  # pyld is untyped
    expanded: list[dict[str, Any]] = expand(document, {"documentLoader": loader})
    return expanded


def _assert_every_term_defined(entity: dict[str, Any], expanded: dict[str, Any]) -> None:
    """JSON-LD expansion drops a term its context does not define: nothing may go."""
    attributes = [k for k in entity if k not in ("@context", "id", "type")]
    iris = [k for k in expanded if not k.startswith("@")]
    assert len(iris) == len(attributes), (sorted(attributes), sorted(iris))
    assert all(i.startswith(("https://smartdatamodels.org/", CORE)) for i in iris), iris
    for iri in iris:
        for instance in expanded[iri]:
            inner = set(instance) - {"@type"}
            assert inner, f"{iri}: an attribute's members were dropped"
            assert all(k.startswith(CORE) for k in inner), (iri, inner)


async def test_entities_expand_against_the_context_they_send(
    client: httpx.AsyncClient, admin: Person, system: Context, runtime: Runtime
) -> None:
    await _fleet(system, runtime)
    context = await _context(client, admin)
    r = await client.get(
        f"{NGSI}/entities", params={"limit": "100"}, headers={**admin.headers, **LD}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/ld+json")
    entities = r.json()
    types = {e["type"] for e in entities}
    assert {"Streetlight", "StreetlightControlCabinet", "OffStreetParking", "Device"} <= types
    assert "TrafficFlowObserved" in types  # the administrator sees Chenôve too
    for entity in entities:
        assert entity["@context"].endswith("/ngsi-ld/v1/jsonldContexts/beffroi.jsonld")
        (expanded,) = _expand(entity, context)
        assert expanded["@id"] == entity["id"]
        assert expanded["@type"][0].startswith("https://smartdatamodels.org/")
        _assert_every_term_defined(entity, expanded)
    light = next(e for e in entities if e["id"] == "urn:ngsi-ld:Streetlight:SL-T1")
    (expanded,) = _expand(light, context)
    state = expanded["https://smartdatamodels.org/dataModel.Streetlighting/powerState"][0]
    assert state[CORE + "hasValue"] == [{"@value": "on"}]
    cabinet = expanded[
        "https://smartdatamodels.org/dataModel.Streetlighting/refStreetlightControlCabinet"
    ][0]
    assert cabinet[CORE + "hasObject"] == [{"@id": "urn:ngsi-ld:StreetlightControlCabinet:LC-T"}]


async def test_normalized_and_key_values_and_json_with_a_link(
    client: httpx.AsyncClient, admin: Person, system: Context, runtime: Runtime
) -> None:
    start = await _fleet(system, runtime)
    url = f"{NGSI}/entities/urn:ngsi-ld:Streetlight:SL-T1"
    r = await client.get(url, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert "@context" not in r.json()
    assert "jsonldContexts/beffroi.jsonld>" in r.headers["link"]
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in r.headers["link"]
    light = r.json()
    last = (start + timedelta(minutes=110)).isoformat().replace("+00:00", "Z")
    assert light["powerState"] == {"type": "Property", "value": "on", "observedAt": last}
    assert light["illuminanceLevel"]["value"] == 1.0
    assert light["powerConsumption"] == {
        "type": "Property", "value": 51.0, "observedAt": last, "unitCode": "WTT"
    }  # fmt: skip
    assert light["lanternHeight"] == {"type": "Property", "value": 8, "unitCode": "MTR"}
    assert light["refStreetlightControlCabinet"] == {
        "type": "Relationship", "object": "urn:ngsi-ld:StreetlightControlCabinet:LC-T"
    }  # fmt: skip
    assert light["refDevice"]["object"] == "urn:ngsi-ld:Device:SL-T1"
    assert light["location"]["type"] == "GeoProperty"

    r = await client.get(url, params={"options": "keyValues"}, headers=admin.headers)
    flat = r.json()
    assert flat["powerState"] == "on"
    assert flat["powerConsumption"] == 51.0
    assert flat["refStreetlightControlCabinet"] == "urn:ngsi-ld:StreetlightControlCabinet:LC-T"
    assert flat["location"] == {"type": "Point", "coordinates": [5.006, 47.337]}

    r = await client.get(url, params={"attrs": "powerState"}, headers=admin.headers)
    assert set(r.json()) == {"id", "type", "powerState"}

    r = await client.get(f"{NGSI}/entities/urn:ngsi-ld:Device:SL-T1", headers=admin.headers)
    device = r.json()
    assert device["controlledAsset"]["object"] == "urn:ngsi-ld:Streetlight:SL-T1"
    assert device["deviceState"]["value"] == "online"
    r = await client.get(f"{NGSI}/entities/urn:ngsi-ld:Streetlight:LC-T", headers=admin.headers)
    assert r.status_code == 404
    assert r.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"
    r = await client.get(url, headers={**admin.headers, "Accept": "text/html"})
    assert r.status_code == 406


async def _ids(client: httpx.AsyncClient, person: Person, **query: str) -> list[str]:
    r = await client.get(f"{NGSI}/entities", params=query, headers=person.headers)
    assert r.status_code == 200, r.text
    return [e["id"] for e in r.json()]


async def test_queries_by_type_id_q_and_geometry(
    client: httpx.AsyncClient, admin: Person, system: Context, runtime: Runtime
) -> None:
    await _fleet(system, runtime)
    light = "urn:ngsi-ld:Streetlight:"
    assert await _ids(client, admin, type="Streetlight") == [
        light + "SL-C1", light + "SL-T1", light + "SL-T2"
    ]  # fmt: skip
    full_iri = "https://smartdatamodels.org/dataModel.Streetlighting/Streetlight"
    assert len(await _ids(client, admin, type=full_iri)) == 3
    assert await _ids(client, admin, id=f"{light}SL-T2,urn:ngsi-ld:Device:CP-T") == [
        "urn:ngsi-ld:Device:CP-T", light + "SL-T2"
    ]  # fmt: skip
    assert await _ids(client, admin, idPattern="^urn:ngsi-ld:Streetlight:SL-T") == [
        light + "SL-T1", light + "SL-T2"
    ]  # fmt: skip
    on = await _ids(client, admin, type="Streetlight", q='powerState=="on"')
    assert on == [light + "SL-C1", light + "SL-T1"]
    assert await _ids(client, admin, q="illuminanceLevel<0.5") == [light + "SL-T2"]
    q = 'powerState=="off"|(powerConsumption>45;areaServed=="talant")'
    assert await _ids(client, admin, q=q) == [light + "SL-T1", light + "SL-T2"]
    assert await _ids(client, admin, q="availableSpotNumber==100..200") == [
        "urn:ngsi-ld:OffStreetParking:CP-T"
    ]
    assert await _ids(client, admin, type="Streetlight", q="lanternHeight>=7") == [light + "SL-T1"]

    lon, lat = TALANT_CENTRE
    near = await _ids(
        client,
        admin,
        type="Streetlight",
        georel="near;maxDistance==500",
        geometry="Point",
        coordinates=f"[{lon},{lat}]",
    )
    assert near == [light + "SL-T1"]  # SL-T2 is 1.5 km east, SL-C1 in Chenôve
    w, s, e, n = lon - 0.03, lat - 0.01, lon + 0.03, lat + 0.01
    polygon = f"[[[{w},{s}],[{e},{s}],[{e},{n}],[{w},{n}],[{w},{s}]]]"
    inside = await _ids(
        client, admin, type="Streetlight", georel="within", geometry="Polygon", coordinates=polygon
    )
    assert inside == [light + "SL-T1", light + "SL-T2"]

    r = await client.get(
        f"{NGSI}/entities",
        params={"type": "Device", "count": "true", "limit": "2", "offset": "1"},
        headers=admin.headers,
    )
    assert r.headers["NGSILD-Results-Count"] == "7"
    assert [e["id"] for e in r.json()] == ["urn:ngsi-ld:Device:CP-T", "urn:ngsi-ld:Device:LC-T"]
    r = await client.get(
        f"{NGSI}/entities", params={"limit": "0", "count": "true"}, headers=admin.headers
    )
    assert r.json() == []
    assert int(r.headers["NGSILD-Results-Count"]) == 7 + 6  # 7 devices, 6 modelled

    r = await client.get(f"{NGSI}/types", headers=admin.headers)
    assert set(r.json()["typeList"]) == {
        "Streetlight", "StreetlightControlCabinet", "OffStreetParking", "TrafficFlowObserved",
        "Device",
    }  # fmt: skip


async def test_pages_of_assets_give_the_same_entities(
    client: httpx.AsyncClient,
    admin: Person,
    system: Context,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _fleet(system, runtime)
    everything = await _ids(client, admin, limit="1000")
    assert len(everything) == 13
    monkeypatch.setattr(service, "PAGE", 2)
    monkeypatch.setattr(service, "FIRST_PAGE_MIN", 1)
    assert await _ids(client, admin, limit="1000") == everything
    walked = []
    for offset in range(0, 13, 3):
        walked += await _ids(client, admin, limit="3", offset=str(offset))
    assert walked == everything
    lit = await _ids(client, admin, q='powerState=="on"', limit="1", offset="1")
    assert lit == ["urn:ngsi-ld:Streetlight:SL-T1"]


async def test_temporal_entities_over_a_window_and_last_n(
    client: httpx.AsyncClient, admin: Person, system: Context, runtime: Runtime
) -> None:
    start = await _fleet(system, runtime)

    def at(minutes: int) -> str:
        return (start + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")

    url = f"{NGSI}/temporal/entities/urn:ngsi-ld:Streetlight:SL-T1"
    r = await client.get(
        url,
        params={
            "timerel": "between",
            "timeAt": at(20),
            "endTimeAt": at(50),
            "attrs": "powerConsumption",
        },
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"id", "type", "powerConsumption"}
    assert [i["observedAt"] for i in body["powerConsumption"]] == [at(20), at(30), at(40)]
    assert [i["value"] for i in body["powerConsumption"]] == [42.0, 43.0, 44.0]
    assert body["powerConsumption"][0]["unitCode"] == "WTT"

    r = await client.get(
        url, params={"lastN": "2", "options": "temporalValues"}, headers=admin.headers
    )
    body = r.json()
    assert body["powerState"]["values"] == [["on", at(100)], ["on", at(110)]]
    assert body["illuminanceLevel"]["values"] == [[1.0, at(100)], [1.0, at(110)]]

    r = await client.get(url, params={"timerel": "before", "timeAt": at(15)}, headers=admin.headers)
    assert [i["observedAt"] for i in r.json()["powerConsumption"]] == [at(0), at(10)]

    r = await client.get(
        f"{NGSI}/temporal/entities",
        params={"type": "OffStreetParking", "timerel": "after", "timeAt": at(100), "count": "true"},
        headers={**admin.headers, **LD},
    )  # fmt: skip
    (park,) = r.json()
    assert r.headers["NGSILD-Results-Count"] == "1"
    assert [i["value"] for i in park["availableSpotNumber"]] == [110, 111]
    context = await _context(client, admin)
    (expanded,) = _expand(park, context)
    _assert_every_term_defined(park, expanded)


BAD_QUERIES = [
    ("entities", {"type": "Lamppost"}, "type"),
    ("entities", {"id": "SL-T1"}, "id"),
    ("entities", {"idPattern": "(unclosed"}, "idPattern"),
    ("entities", {"attrs": "colour"}, "attrs"),
    ("entities", {"q": "powerState=on"}, "q"),
    ("entities", {"q": "powerState==on"}, "q"),
    ("entities", {"q": "nosuch==1"}, "q"),
    ("entities", {"q": 'powerState=="on"; DROP TABLE assets'}, "q"),
    ("entities", {"q": "(" * 20 + "name" + ")" * 20}, "q"),
    ("entities", {"georel": "near;maxDistance==10"}, "geometry"),
    ("entities", {"georel": "near", "geometry": "Point", "coordinates": "[5,47]"}, "georel"),
    ("entities", {"georel": "within", "geometry": "Point", "coordinates": "[5,47]"}, "geometry"),
    (
        "entities",
        {"georel": "within", "geometry": "Polygon", "coordinates": "[[5,47]]"},
        "coordinates",
    ),
    (
        "entities",
        {"georel": "near;maxDistance==1", "geometry": "Point", "coordinates": "x"},
        "coordinates",
    ),
    ("entities", {"limit": "5000"}, "limit"),
    ("entities", {"limit": "-1"}, "limit"),
    ("entities", {"offset": "x"}, "offset"),
    ("entities", {"count": "yes"}, "count"),
    ("entities", {"options": "sysAttrs"}, "options"),
    ("entities", {"geoproperty": "position"}, "geoproperty"),
    ("temporal/entities", {"timerel": "during", "timeAt": "2026-01-01T00:00:00Z"}, "timerel"),
    ("temporal/entities", {"timerel": "after"}, "timeAt"),
    ("temporal/entities", {"timerel": "after", "timeAt": "2026-01-01T00:00:00"}, "timeAt"),
    ("temporal/entities", {"timerel": "after", "timeAt": "9999-01-01T00:00:00Z"}, "timeAt"),
    ("temporal/entities", {"timerel": "between", "timeAt": "2026-01-02T00:00:00Z"}, "endTimeAt"),
    ("temporal/entities", {"lastN": "0"}, "lastN"),
    ("entities", {"type": "x" * 5000}, "type"),
]


async def test_bad_queries_name_the_parameter(client: httpx.AsyncClient, admin: Person) -> None:
    for path, query, field in BAD_QUERIES:
        r = await client.get(f"{NGSI}/{path}", params=query, headers=admin.headers)
        assert r.status_code == 400, (query, r.text)
        problem = r.json()
        assert problem["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"
        assert problem["field"] == field, (query, problem)
        assert field in problem["detail"], (query, problem)


async def test_scope_credentials_and_cameras(
    client: httpx.AsyncClient, admin: Person, system: Context, runtime: Runtime
) -> None:
    start = await _fleet(system, runtime)
    talant = await make_person(system, "talant-viewer", [Role.VIEWER], ["talant"])
    everything = await _ids(client, talant, limit="1000")
    assert everything
    assert not [i for i in everything if i.endswith(("SL-C1", "TF-C1"))]
    assert "urn:ngsi-ld:Device:CAM-T" not in everything  # a viewer sees no camera
    assert "urn:ngsi-ld:Device:CAM-T" in await _ids(client, admin, type="Device")
    lon, lat = CHENOVE_CENTRE
    assert not await _ids(
        client,
        talant,
        georel="near;maxDistance==2000",
        geometry="Point",
        coordinates=f"[{lon},{lat}]",
    )
    for url in (
        f"{NGSI}/entities/urn:ngsi-ld:Streetlight:SL-C1",
        f"{NGSI}/temporal/entities/urn:ngsi-ld:Streetlight:SL-C1",
        f"{NGSI}/entities/urn:ngsi-ld:Device:CAM-T",
    ):
        r = await client.get(url, headers=talant.headers)
        assert r.status_code == 404, url
    r = await client.get(
        f"{NGSI}/temporal/entities",
        params={"timerel": "after", "timeAt": start.isoformat()},
        headers=talant.headers,
    )
    assert r.status_code == 200
    assert "SL-C1" not in r.text
    assert "TF-C1" not in r.text
    r = await client.get(f"{NGSI}/types", headers=talant.headers)
    assert "TrafficFlowObserved" not in r.json()["typeList"]
    for path in ("entities", "types", "jsonldContexts/beffroi.jsonld", "temporal/entities"):
        r = await client.get(f"{NGSI}/{path}")
        assert r.status_code == 401, path
