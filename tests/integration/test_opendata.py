"""Open data end to end, on both databases: refresh into snapshots, the public records
query and exports, DCAT, ETags, rate limits and API keys, and nothing private published."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from rdflib import RDF, Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS
from sqlalchemy import text

from beffroi.core.context import Context, Runtime
from beffroi.core.errors import PermissionDenied
from beffroi.core.principal import Role
from beffroi.opendata import service
from beffroi.opendata.datasets import DATASETS
from beffroi.opendata.store import store_of
from beffroi.web.app import create_app
from tests.integration.opendata_world import (
    COUNTERS,
    HOURS,
    REPORTED_AT,
    SECRETS,
    build_world,
)
from tests.support import Person, make_person, run_cli

API = "/api/explore/v2.1"
TRAFFIC = f"{API}/catalog/datasets/traffic-counts-hourly"


@pytest.fixture
async def world(runtime: Runtime, system: Context) -> Runtime:
    await build_world(runtime, system)
    await service.refresh_all(system)
    return runtime


async def served(runtime: Runtime, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app with its lifespan (the rate limiter lives there)."""
    if settings:
        runtime = Runtime(runtime.settings.model_copy(update=settings), runtime.db)
    app = create_app(runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


@pytest.fixture
async def public(world: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async for http in served(world, opendata_rate_limit="10000/minute"):
        yield http


def records(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total_count"] >= len(body["results"])
    return list(body["results"])


async def test_a_refresh_writes_a_new_immutable_snapshot_and_prunes_old_ones(
    world: Runtime, system: Context
) -> None:
    store = store_of(world.settings)
    async with world.db.read() as session:
        rows = (
            await session.execute(
                text("SELECT dataset, version, row_count, sha256, size FROM opendata_snapshots")
            )
        ).all()
    assert {r.dataset for r in rows} == {ds.id for ds in DATASETS}
    counts = {r.dataset: r.row_count for r in rows}
    assert counts["traffic-counts-hourly"] == HOURS * len(COUNTERS)
    assert counts["streetlights"] == 2
    first = next(r for r in rows if r.dataset == "streetlights")
    path = store.path("streetlights", 1)
    assert path.stat().st_size == first.size
    assert not path.stat().st_mode & 0o222, "a snapshot is read-only"
    assert pl.read_parquet(path).height == 2

    keep_one = Context(
        Runtime(world.settings.model_copy(update={"opendata_keep": 1}), world.db), system.principal
    )
    again = await service.refresh(keep_one, "streetlights")
    assert again.version == 2
    assert again.sha256 == first.sha256 or again.row_count == 2
    assert not path.exists(), "pruned beyond opendata_keep"
    assert store.path("streetlights", 2).exists()
    async with world.db.read() as session:
        versions = (
            (
                await session.execute(
                    text("SELECT version FROM opendata_snapshots WHERE dataset = 'streetlights'")
                )
            )
            .scalars()
            .all()
        )
        audited = (
            await session.execute(
                text("SELECT count(*) FROM audit_entries WHERE action = 'opendata.refresh'")
            )
        ).scalar()
    assert list(versions) == [2]
    assert audited == len(DATASETS) + 1


async def test_only_a_metropolis_wide_manager_refreshes(world: Runtime, system: Context) -> None:
    talant_admin = await make_person(system, "talant-admin", [Role.ADMIN], ["talant"])
    viewer = await make_person(system, "viewer", [Role.VIEWER])
    async for http in served(world):
        for person in (talant_admin, viewer):
            answer = await http.post(
                "/api/v1/opendata/datasets/streetlights/refresh", headers=person.headers
            )
            assert answer.status_code == 403, answer.text
    async with world.db.read() as session:
        refused = (
            await session.execute(
                text("SELECT count(*) FROM audit_entries WHERE action = 'opendata.refresh.refused'")
            )
        ).scalar()
    assert refused == 2
    with pytest.raises(PermissionDenied):
        await service.refresh(
            world.context(
                system.principal.__class__(
                    name="x",
                    kind=system.principal.kind,
                    roles=frozenset({Role.ADMIN}),
                    communes=frozenset({"talant"}),
                )
            ),
            "streetlights",
        )


async def test_records_select_filter_group_sort_and_page(public: httpx.AsyncClient) -> None:
    every = records(await public.get(f"{TRAFFIC}/records", params={"limit": 100}))
    assert len(every) == HOURS * len(COUNTERS)
    assert set(every[0]) == {
        "counter_id",
        "commune_code",
        "road",
        "hour",
        "vehicles",
        "mean_speed_kmh",
        "occupancy_pct",
        "lon",
        "lat",
    }
    assert all(r["mean_speed_kmh"] == 40.0 for r in every)

    talant = records(
        await public.get(
            f"{TRAFFIC}/records",
            params={
                "select": "counter_id, vehicles AS n, hour",
                "where": "counter_id = 'TC-TAL-1' and vehicles >= 240",
                "order_by": "n desc",
                "limit": 2,
                "offset": 1,
            },
        )
    )
    # TC-TAL-1 counts 120 * back vehicles: 720, 600, 480, 360, 240 over 240.
    assert [r["n"] for r in talant] == [600, 480]
    assert set(talant[0]) == {"counter_id", "n", "hour"}
    assert talant[0]["hour"].endswith("+00:00")
    assert ":00:00" in talant[0]["hour"]

    grouped = await public.get(
        f"{TRAFFIC}/records",
        params={
            "select": "commune_code, sum(vehicles) as total, count(*) as hours, "
            "avg(mean_speed_kmh)",
            "group_by": "commune_code",
            "order_by": "total desc",
        },
    )
    assert records(grouped) == [
        {"commune_code": "chenove", "total": 240 * 21, "hours": HOURS, "avg(mean_speed_kmh)": 40.0},
        {"commune_code": "talant", "total": 120 * 21, "hours": HOURS, "avg(mean_speed_kmh)": 40.0},
    ]
    found = await public.get(
        f"{TRAFFIC}/records",
        params={"where": "road like '%Beaune' or counter_id in ('nothing')", "limit": 0},
    )
    assert found.json() == {"total_count": HOURS, "results": []}
    assert (
        records(
            await public.get(
                f"{TRAFFIC}/records",
                params={"where": "search('mont afrique') and not (vehicles < 700)"},
            )
        )[0]["vehicles"]
        == 720
    )


BAD = [
    ({"where": "nope = 1"}, "where", "nope"),
    ({"where": "vehicles = "}, "where", "position"),
    ({"where": "vehicles = 'many'"}, "where", "vehicles"),
    ({"where": "1=1; DROP TABLE assets; --"}, "where", "position"),
    ({"where": "counter_id = '' OR 1=1 --'"}, "where", "position"),
    ({"where": "counter_id = 'x' UNION SELECT * FROM users"}, "where", "position"),
    ({"where": "(" * 40 + "vehicles = 1" + ")" * 40}, "where", "nested"),
    ({"select": "password"}, "select", "password"),
    ({"select": "counter_id, sum(vehicles)"}, "select", "counter_id"),
    ({"select": "sum(road)"}, "select", "road"),
    ({"select": "pg_sleep(10)"}, "select", "position"),
    ({"group_by": "secret"}, "group_by", "secret"),
    ({"order_by": "vehicles sideways"}, "order_by", "position"),
    ({"order_by": "nope"}, "order_by", "nope"),
    ({"limit": "1000"}, "limit", "100"),
    ({"limit": "-5"}, "limit", "100"),
    ({"offset": "9999", "limit": "10"}, "offset", "10000"),
    ({"offset": "-1"}, "offset", "negative"),
]


async def test_bad_queries_are_400_naming_the_field(public: httpx.AsyncClient) -> None:
    problems = []
    for params, field, named in BAD:
        answer = await public.get(f"{TRAFFIC}/records", params=params)
        body = answer.json()
        if answer.status_code != 400 or body.get("field") != field or named not in body["detail"]:
            problems.append(f"{params}: {answer.status_code} {answer.text}")
    wrong_key = await public.get(f"{TRAFFIC}/records", headers={"Authorization": "Apikey no"})
    assert wrong_key.status_code == 401
    assert "Authorization" in wrong_key.json()["detail"]
    unknown = await public.get(f"{API}/catalog/datasets/cameras/records")
    assert unknown.status_code == 404
    huge = await public.get(f"{TRAFFIC}/exports/csv", params={"where": "vehicles >"})
    assert huge.status_code == 400
    assert huge.json()["field"] == "where"
    assert not problems, "\n".join(problems)


async def test_exports_parse_back(public: httpx.AsyncClient) -> None:
    where = {"where": "counter_id = 'TC-CHE-1'"}
    as_csv = await public.get(f"{TRAFFIC}/exports/csv", params=where)
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text), delimiter=";"))
    assert len(rows) == HOURS
    assert {r["counter_id"] for r in rows} == {"TC-CHE-1"}
    assert rows[0]["hour"].endswith(":00:00Z")

    as_json = json.loads((await public.get(f"{TRAFFIC}/exports/json", params=where)).content)
    assert sorted(r["vehicles"] for r in as_json) == [240 * b for b in range(1, HOURS + 1)]

    geo = (await public.get(f"{TRAFFIC}/exports/geojson", params=where)).json()
    assert geo["type"] == "FeatureCollection"
    assert len(geo["features"]) == HOURS
    point = geo["features"][0]
    assert point["geometry"] == {"type": "Point", "coordinates": [5.006, 47.292]}
    assert point["properties"]["counter_id"] == "TC-CHE-1"
    assert "lon" not in point["properties"]

    whole = await public.get(f"{TRAFFIC}/exports/parquet")
    frame = pl.read_parquet(io.BytesIO(whole.content))
    assert frame.height == HOURS * len(COUNTERS)
    assert frame.schema["hour"] == pl.Datetime("us", "UTC")
    part = pl.read_parquet(
        io.BytesIO(
            (
                await public.get(
                    f"{TRAFFIC}/exports/parquet", params={**where, "select": "vehicles"}
                )
            ).content
        )
    )
    assert part.columns == ["vehicles"]
    assert part.height == HOURS

    no_geometry = await public.get(f"{API}/catalog/datasets/lighting-energy-daily/exports/geojson")
    assert no_geometry.status_code == 400
    assert no_geometry.json()["field"] == "format"


async def test_nothing_private_or_of_the_cameras_is_published(public: httpx.AsyncClient) -> None:
    shown: list[str] = []
    catalog = await public.get(f"{API}/catalog/datasets", params={"limit": 100})
    shown.append(catalog.text)
    for entry in catalog.json()["results"]:
        for fmt in entry["exports"]:
            answer = await public.get(f"{API}/catalog/datasets/{entry['dataset_id']}/exports/{fmt}")
            assert answer.status_code == 200, answer.text
            shown.append(answer.content.decode("latin-1") if fmt == "parquet" else answer.text)
    stats = records(await public.get(f"{API}/catalog/datasets/interventions-monthly/records"))
    assert {r["category"] for r in stats} == {"lighting", "roads"}, "never the cameras' work"
    lighting = next(r for r in stats if r["category"] == "lighting")
    # Two resolved by hand, and the citizen's report, still open.
    assert (lighting["opened"], lighting["resolved"], lighting["median_hours_to_resolve"]) == (
        3,
        2,
        4.0,
    )
    reports = records(await public.get(f"{API}/catalog/datasets/citizen-reports/records"))
    assert [(r["service_code"], r["commune_code"], r["status"]) for r in reports] == [
        ("streetlight-out", "talant", "open")
    ]
    assert (reports[0]["lon"], reports[0]["lat"]) != REPORTED_AT
    assert abs(reports[0]["lon"] - REPORTED_AT[0]) < 0.01, "in its cell, near enough to map"
    [works] = records(await public.get(f"{API}/catalog/datasets/road-works-and-closures/records"))
    assert (works["type"], works["road"], works["communes"]) == (
        "roadworks",
        "Rue de la Libération",
        "Talant",
    )
    assert (works["lanes_closed"], works["road_closed"]) == (1, False)
    for secret in SECRETS:
        assert not [s for s in shown if secret in s], f"{secret!r} was published"


async def test_catalogue_search_metadata_and_etags(public: httpx.AsyncClient) -> None:
    energy = (
        await public.get(f"{API}/catalog/datasets", params={"refine": 'theme:"Énergie"'})
    ).json()
    assert {d["dataset_id"] for d in energy["results"]} == {"streetlights", "lighting-energy-daily"}
    found = (await public.get(f"{API}/catalog/datasets", params={"q": "parking historique"})).json()
    assert [d["dataset_id"] for d in found["results"]] == ["car-parks-hourly"]
    bad = await public.get(f"{API}/catalog/datasets", params={"refine": "colour:red"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "refine"
    unknown = await public.get(f"{API}/catalog/datasets", params={"theme": "Cuisine"})
    assert unknown.status_code == 400
    assert unknown.json()["field"] == "theme"
    assert "Énergie" in unknown.json()["detail"]

    meta = await public.get(TRAFFIC)
    body = meta.json()
    assert body["geometry"] == {"lon": "lon", "lat": "lat"}
    assert body["licence"]["url"].startswith("https://www.etalab.gouv.fr/")
    assert body["snapshot"]["row_count"] == HOURS * len(COUNTERS)
    assert body["has_records"]
    assert next(f for f in body["fields"] if f["name"] == "hour")["coarsened"] == "hour"
    assert body["exports"]["geojson"].endswith("/exports/geojson")

    for url, params in (
        (TRAFFIC, {}),
        (f"{TRAFFIC}/records", {"limit": 3}),
        (f"{TRAFFIC}/exports/csv", {}),
        (f"{API}/catalog/datasets", {}),
    ):
        first = await public.get(url, params=params)
        assert first.status_code == 200
        assert "max-age" in first.headers["cache-control"]
        etag = first.headers["etag"]
        again = await public.get(url, params=params, headers={"If-None-Match": etag})
        assert again.status_code == 304, url
        assert again.content == b"", url
        if url != TRAFFIC:  # another query, another answer
            other = await public.get(
                url, params={**params, "offset": 1}, headers={"If-None-Match": etag}
            )
            assert other.status_code == 200
            assert other.headers["etag"] != etag


async def test_dcat_catalogue_parses_back(public: httpx.AsyncClient) -> None:
    for path, fmt in (("dcat.jsonld", "json-ld"), ("dcat.ttl", "turtle")):
        answer = await public.get(f"{API}/catalog/exports/{path}")
        assert answer.status_code == 200
        graph = Graph().parse(data=answer.text, format=fmt)
        catalogs = list(graph.subjects(RDF.type, DCAT.Catalog))
        assert len(catalogs) == 1
        datasets = set(graph.objects(catalogs[0], DCAT.dataset))
        assert len(datasets) == len(DATASETS)
        node = URIRef(f"http://testserver{TRAFFIC}")
        assert node in datasets
        assert (node, RDF.type, DCAT.Dataset) in graph
        assert (
            node,
            DCAT.theme,
            URIRef("http://publications.europa.eu/resource/authority/data-theme/TRAN"),
        ) in graph
        distributions = set(graph.objects(node, DCAT.distribution))
        assert len(distributions) == 4
        for dist in distributions:
            assert (
                dist,
                DCTERMS.license,
                URIRef("https://www.etalab.gouv.fr/licence-ouverte-open-licence/"),
            ) in graph
            assert str(graph.value(dist, DCAT.downloadURL)).startswith(
                f"http://testserver{TRAFFIC}/exports/"
            )


async def test_rate_limit_and_api_keys(world: Runtime, system: Context, admin: Person) -> None:
    async for http in served(
        world, opendata_rate_limit="3/minute", opendata_key_rate_limit="20/minute"
    ):
        for _ in range(3):
            assert (await http.get(f"{API}/catalog/datasets")).status_code == 200
        refused = await http.get(f"{API}/catalog/datasets")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1

        made = await http.post(
            "/api/v1/opendata/keys", json={"name": "a start-up"}, headers=admin.headers
        )
        assert made.status_code == 201, made.text
        key = made.json()["key"]
        with_key = {"Authorization": f"Apikey {key}"}
        for _ in range(10):
            assert (await http.get(f"{API}/catalog/datasets", headers=with_key)).status_code == 200
        listed = (await http.get("/api/v1/opendata/keys", headers=admin.headers)).json()
        assert [k["name"] for k in listed] == ["a start-up"]
        assert "key" not in listed[0]

        # A wrong key counts against its address, spent already: guessing is limited too.
        wrong = await http.get(f"{API}/catalog/datasets", headers={"Authorization": "Apikey no"})
        assert wrong.status_code == 429
        revoked = await http.delete(
            f"/api/v1/opendata/keys/{made.json()['id']}", headers=admin.headers
        )
        assert revoked.json()["revoked_at"] is not None
    async with world.db.read() as session:
        stored = (await session.execute(text("SELECT key_hash FROM opendata_api_keys"))).scalar()
        actions = set(
            (
                await session.execute(
                    text("SELECT action FROM audit_entries WHERE action LIKE 'opendata_key.%'")
                )
            ).scalars()
        )
    assert isinstance(stored, str)
    assert key not in stored
    assert actions == {"opendata_key.create", "opendata_key.revoke"}


async def test_the_command_line_refreshes_as_the_system(
    runtime: Runtime, system: Context, database_url: str, tmp_path: Path
) -> None:
    await build_world(runtime, system)
    env = {"BEFFROI_DATABASE_URL": database_url, "BEFFROI_DATA_DIR": str(tmp_path)}
    done = await run_cli("opendata", "refresh", "car-parks-live", "streetlights", env=env)
    assert done.returncode == 0, done.stderr
    assert "car-parks-live" in done.stdout
    assert "streetlights" in done.stdout
    assert (
        pl.read_parquet(tmp_path / "opendata" / "car-parks-live" / "00000001.parquet").height == 1
    )
    unknown = await run_cli("opendata", "refresh", "cameras", env=env)
    assert unknown.returncode == 1
    assert "cameras" in unknown.stderr + unknown.stdout
    async with runtime.db.read() as session:
        actors = (
            await session.execute(
                text(
                    "SELECT actor_kind, action FROM audit_entries "
                    "WHERE action LIKE 'opendata.refresh%' ORDER BY seq"
                )
            )
        ).all()
    assert [tuple(a) for a in actors] == [
        ("system", "opendata.refresh"),
        ("system", "opendata.refresh"),
        ("system", "opendata.refresh.refused"),
    ]
