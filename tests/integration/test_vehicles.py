"""Vehicles on both databases: positions from the ingest stream kept as tracks and latest
positions (a redelivery changes nothing, an older position never wins), a track as
GeoJSON, commune scope (a Talant user sees Talant's vehicles and routes only), salting
routes and their completion from a generated track, the nearest available crew for an
intervention, and the retention of tracks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from beffroi import metrics
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.telemetry.decode import Readings
from beffroi.telemetry.store import Batch, TelemetryStore
from beffroi.vehicles import ingest, jobs
from beffroi.vehicles.events import VehicleMoved
from beffroi.vehicles.ingest import VehicleTracker
from tests.support import Person, audit_seq, audited_since, make_person, table_rows

pytestmark = pytest.mark.asyncio
API = "/api/v1"
TALANT, CHENOVE = (5.005, 47.337), (5.006, 47.292)
# An eastward street of Talant, about 900 m.
STREET = [[5.000, 47.337], [5.012, 47.337]]


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def vehicle(asset_id: str, commune: str, kind: str, team_id: int | None = None) -> dict[str, Any]:
    lon, lat = CHENOVE if commune == "chenove" else TALANT
    attributes: dict[str, Any] = {"kind": kind}
    if team_id is not None:
        attributes["team_id"] = team_id
    return {
        "id": asset_id,
        "type": "vehicle",
        "name": f"Véhicule {asset_id}",
        "commune": commune,
        "location": {"type": "Point", "coordinates": [lon, lat]},
        "attributes": attributes,
    }


async def report(runtime: Runtime, asset_id: str, *fixes: tuple[datetime, float, float]) -> None:
    """Positions through the telemetry store, as the gateway writes a batch."""
    store = TelemetryStore(runtime.db, [VehicleTracker()])
    points = tuple(
        point
        for ts, lon, lat in fixes
        for point in (
            ("lon", ts, lon, None),
            ("lat", ts, lat, None),
            ("speed_kmh", ts, 30.0, None),
            ("heading_deg", ts, 90.0, None),
        )
    )
    await store.write(Batch(readings=[Readings(asset_id, points)]))


def along(line: list[list[float]], upto: float, start: datetime, count: int = 40) -> list[Any]:
    """``count`` positions along the straight ``line`` up to the fraction ``upto``, 5 s
    apart."""
    (x0, y0), (x1, _y1) = line
    return [
        (start + timedelta(seconds=5 * i), x0 + (x1 - x0) * upto * i / (count - 1), y0)
        for i in range(count)
    ]


@pytest.fixture
async def talant_operator(system: Context) -> Person:
    return await make_person(system, "veh-talant", [Role.OPERATOR], communes=["talant"])


async def test_positions_are_tracked_and_scoped(
    client: httpx.AsyncClient, admin: Person, talant_operator: Person, runtime: Runtime
) -> None:
    h = admin.headers
    ok(
        await client.post(
            f"{API}/assets", json=vehicle("VEH-TAL-1", "talant", "patrol"), headers=h
        ),
        201,
    )
    ok(
        await client.post(
            f"{API}/assets", json=vehicle("VEH-CHE-1", "chenove", "patrol"), headers=h
        ),
        201,
    )
    now = utcnow().replace(microsecond=0)
    fixes = along(STREET, 1.0, now - timedelta(minutes=4), count=10)
    await report(runtime, "VEH-TAL-1", *fixes)
    await report(runtime, "VEH-TAL-1", *fixes)  # redelivered: nothing twice
    # A late position (buffered by the tracker) joins the track, moves nobody on the map.
    late = await TelemetryStore(runtime.db, [VehicleTracker()]).write(
        Batch(
            readings=[
                Readings(
                    "VEH-TAL-1",
                    (
                        ("lon", now - timedelta(hours=2), 5.1, None),
                        ("lat", now - timedelta(hours=2), 47.3, None),
                    ),
                )
            ]
        )
    )
    assert not [e for e in late.events if isinstance(e, VehicleMoved)]
    await report(runtime, "VEH-CHE-1", (now, *CHENOVE))

    seen = ok(await client.get(f"{API}/vehicles", headers=h))["items"]
    assert [v["asset_id"] for v in seen] == ["VEH-CHE-1", "VEH-TAL-1"]
    tal = seen[1]
    assert (tal["lon"], tal["lat"]) == (fixes[-1][1], fixes[-1][2])
    assert tal["kind"] == "patrol"
    assert tal["commune"] == "talant"
    assert tal["fresh"]
    assert tal["speed_kmh"] == 30.0
    assert tal["heading_deg"] == 90.0

    track = ok(
        await client.get(
            f"{API}/vehicles/VEH-TAL-1/track",
            params={"since": (now - timedelta(minutes=10)).isoformat()},
            headers=h,
        )
    )
    assert track["type"] == "Feature"
    assert track["geometry"]["type"] == "LineString"
    assert track["geometry"]["coordinates"] == [[lon, lat] for _, lon, lat in fixes]
    assert track["properties"]["points"] == 10
    assert not track["properties"]["truncated"]
    rows = await table_rows(runtime, "vehicle_track")
    assert len(rows["vehicle_track"]) == 12

    # Talant's operator: Talant's vehicle only; Chenôve's does not exist for them.
    t = talant_operator.headers
    mine = ok(await client.get(f"{API}/vehicles", headers=t))["items"]
    assert [v["asset_id"] for v in mine] == ["VEH-TAL-1"]
    assert (await client.get(f"{API}/vehicles/VEH-CHE-1/track", headers=t)).status_code == 404
    assert (await client.get(f"{API}/vehicles/VEH-TAL-1/track", headers=t)).status_code == 200

    bad = await client.get(
        f"{API}/vehicles/VEH-TAL-1/track",
        params={"since": now.isoformat(), "until": (now - timedelta(hours=1)).isoformat()},
        headers=h,
    )
    assert bad.status_code == 422
    assert "since" in bad.text


async def test_salting_route_completion_from_a_generated_track(
    client: httpx.AsyncClient, admin: Person, talant_operator: Person, runtime: Runtime
) -> None:
    h, t = admin.headers, talant_operator.headers
    for body in (
        vehicle("SALT-TAL-1", "talant", "salting_truck"),
        vehicle("PATROL-TAL-1", "talant", "patrol"),
    ):
        ok(await client.post(f"{API}/assets", json=body, headers=h), 201)
    seq = await audit_seq(runtime)
    route = ok(
        await client.post(
            f"{API}/salting-routes",
            json={"name": "Talant haut", "geometry": {"type": "LineString", "coordinates": STREET}},
            headers=t,
        ),
        201,
    )
    assert route["communes"] == ["talant"]
    assert route["level"] == 1
    assert 850 < route["length_m"] < 950
    assert [e.action for e in await audited_since(runtime, seq)] == ["salting_route.create"]
    chenove = ok(
        await client.post(
            f"{API}/salting-routes",
            json={
                "name": "Chenôve centre",
                "communes": ["chenove"],
                "geometry": {"type": "LineString", "coordinates": [[5.0, 47.292], [5.01, 47.292]]},
            },
            headers=h,
        ),
        201,
    )

    start = utcnow().replace(microsecond=0) - timedelta(minutes=30)
    # The salting truck salts the first 60 %; a patrol drives the rest, which salts nothing.
    await report(runtime, "SALT-TAL-1", *along(STREET, 0.6, start))
    rest = [[STREET[0][0] + (STREET[1][0] - STREET[0][0]) * 0.6, STREET[0][1]], STREET[1]]
    await report(runtime, "PATROL-TAL-1", *along(rest, 1.0, start))

    done = ok(
        await client.get(
            f"{API}/salting-routes/{route['id']}/completion",
            params={"since": (start - timedelta(minutes=1)).isoformat()},
            headers=t,
        )
    )
    assert done["completion"] == pytest.approx(0.6, abs=0.04)
    assert done["trucks"] == ["SALT-TAL-1"]
    assert done["tolerance_m"] == 25.0
    # Since after the truck went by: nothing salted.
    later = ok(
        await client.get(
            f"{API}/salting-routes/{route['id']}/completion",
            params={"since": (start + timedelta(minutes=10)).isoformat()},
            headers=t,
        )
    )
    assert later["completion"] == 0
    assert later["trucks"] == []

    listed = ok(
        await client.get(
            f"{API}/salting-routes",
            params={"since": (start - timedelta(minutes=1)).isoformat()},
            headers=t,
        )
    )["items"]
    assert [(r["name"], round(r["completion"], 1)) for r in listed] == [("Talant haut", 0.6)]
    names = [r["name"] for r in ok(await client.get(f"{API}/salting-routes", headers=h))["items"]]
    assert names == ["Chenôve centre", "Talant haut"]

    # Chenôve's route does not exist for Talant; nor may Talant write one there.
    assert (await client.get(f"{API}/salting-routes/{chenove['id']}", headers=t)).status_code == 404
    assert (
        await client.patch(f"{API}/salting-routes/{chenove['id']}", json={"level": 2}, headers=t)
    ).status_code == 404
    before = await table_rows(runtime, "salting_routes")
    refused = await client.post(
        f"{API}/salting-routes",
        json={
            "name": "Ailleurs",
            "communes": ["chenove"],
            "geometry": {"type": "LineString", "coordinates": STREET},
        },
        headers=t,
    )
    assert refused.status_code == 403
    bad = await client.post(
        f"{API}/salting-routes",
        json={
            "name": "Nulle part",
            "geometry": {"type": "LineString", "coordinates": [[0, 0], [0, 0]]},
        },
        headers=h,
    )
    assert bad.status_code == 422
    assert "geometry" in bad.text
    assert await table_rows(runtime, "salting_routes") == before

    changed = ok(
        await client.patch(f"{API}/salting-routes/{route['id']}", json={"level": 2}, headers=t)
    )
    assert changed["level"] == 2
    deleted = await client.delete(f"{API}/salting-routes/{route['id']}", headers=t)
    assert deleted.status_code == 204
    assert (await client.get(f"{API}/salting-routes/{route['id']}", headers=t)).status_code == 404


async def test_the_nearest_available_crew_is_proposed(
    client: httpx.AsyncClient, admin: Person, runtime: Runtime
) -> None:
    h = admin.headers

    async def team(name: str) -> int:
        body = {"name": name, "categories": ["roads", "snow"], "communes": ["talant"]}
        made: int = ok(await client.post(f"{API}/teams", json=body, headers=h), 201)["id"]
        return made

    near, far, busy, stale = [await team(n) for n in ("near", "far", "busy", "stale")]
    now = utcnow().replace(microsecond=0)
    for asset_id, team_id, (lon, lat), ts in (
        ("CREW-NEAR", near, (5.006, 47.337), now),
        ("CREW-FAR", far, (5.030, 47.337), now),
        ("CREW-BUSY", busy, (5.005, 47.337), now),
        ("CREW-STALE", stale, (5.005, 47.3371), now - timedelta(hours=1)),
        ("CREW-NONE", None, (5.005, 47.3372), now),
    ):
        body = vehicle(asset_id, "talant", "field_crew", team_id)
        ok(await client.post(f"{API}/assets", json=body, headers=h), 201)
        await report(runtime, asset_id, (ts, lon, lat))
    place = {"type": "Point", "coordinates": list(TALANT)}
    at_work = ok(
        await client.post(
            f"{API}/interventions",
            json={"category": "roads", "title": "busy", "commune": "talant", "team_id": busy},
            headers=h,
        ),
        201,
    )
    ok(
        await client.post(
            f"{API}/interventions/{at_work['id']}/status",
            json={"status": "in_progress"},
            headers=h,
        )
    )
    work = ok(
        await client.post(
            f"{API}/interventions",
            json={"category": "snow", "title": "Verglas", "commune": "talant", "location": place},
            headers=h,
        ),
        201,
    )
    crews = ok(await client.get(f"{API}/interventions/{work['id']}/nearest-crews", headers=h))
    assert [c["team_name"] for c in crews["items"]] == ["near", "far"]
    assert crews["items"][0]["asset_id"] == "CREW-NEAR"
    assert 50 < crews["items"][0]["distance_m"] < 100
    assert 1800 < crews["items"][1]["distance_m"] < 2000

    viewer = await make_person(
        runtime.system_context("tests"), "veh-viewer", [Role.VIEWER], communes=["talant"]
    )
    refused = await client.get(
        f"{API}/interventions/{work['id']}/nearest-crews", headers=viewer.headers
    )
    assert refused.status_code == 403


async def test_old_track_points_are_purged_and_the_latest_position_kept(
    client: httpx.AsyncClient, admin: Person, runtime: Runtime, system: Context
) -> None:
    ok(
        await client.post(
            f"{API}/assets", json=vehicle("VEH-OLD", "talant", "patrol"), headers=admin.headers
        ),
        201,
    )
    now = utcnow().replace(microsecond=0)
    days = runtime.settings.vehicles_track_days
    await report(
        runtime,
        "VEH-OLD",
        (now - timedelta(days=days + 2), 5.0, 47.337),
        (now - timedelta(days=days + 1), 5.001, 47.337),
    )
    await report(runtime, "VEH-OLD", (now - timedelta(days=days - 1), 5.002, 47.337))
    assert await jobs.purge_tracks(system) == 2
    assert await jobs.purge_tracks(system) == 0
    async with runtime.db.read() as session:
        kept = (await session.execute(text("SELECT lon FROM vehicle_track"))).scalars().all()
        latest = (await session.execute(text("SELECT lon FROM vehicle_positions"))).scalars().all()
    assert kept == [5.002]
    assert latest == [5.002]


async def test_a_failing_track_write_stores_the_batch_all_the_same(
    client: httpx.AsyncClient,
    admin: Person,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for asset_id in ("VEH-OK", "VEH-BROKEN"):
        body = vehicle(asset_id, "talant", "patrol")
        ok(await client.post(f"{API}/assets", json=body, headers=admin.headers), 201)
    store = ingest.store

    async def broken(session: Any, rows: Any) -> Any:
        if any(r["asset_id"] == "VEH-BROKEN" for r in rows):
            raise RuntimeError("track write broken")
        return await store(session, rows)

    monkeypatch.setattr(ingest, "store", broken)
    before = metrics.REGISTRY.get_sample_value(
        "beffroi_followup_failures_total", {"stage": "vehicles"}
    )
    now = utcnow().replace(microsecond=0)
    points = (("lon", now, 5.001, None), ("lat", now, 47.337, None))
    written = await TelemetryStore(runtime.db, [VehicleTracker()]).write(
        Batch(readings=[Readings("VEH-OK", points), Readings("VEH-BROKEN", points)])
    )
    # The batch is stored whole; only the broken vehicle's track is given up, and counted.
    assert written.points == 4
    async with runtime.db.read() as session:
        tracked = (await session.execute(text("SELECT asset_id FROM vehicle_track"))).scalars()
        assert list(tracked) == ["VEH-OK"]
        telemetry = await session.execute(
            text("SELECT count(*) FROM telemetry_points WHERE asset_id = 'VEH-BROKEN'")
        )
        assert telemetry.scalar_one() == 2
    after = metrics.REGISTRY.get_sample_value(
        "beffroi_followup_failures_total", {"stage": "vehicles"}
    )
    assert (after or 0) - (before or 0) == 1
    assert [e.asset_id for e in written.events if isinstance(e, VehicleMoved)] == ["VEH-OK"]
