"""The mobility API: approaches (who may edit, commune scope, bad input), and traffic
counts aggregated from stored telemetry with exact figures, JSON and CSV."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from beffroi.alarms import raising
from beffroi.alarms.models import Alarm
from beffroi.assets import importing
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.catalogue import Severity
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.mobility import counting
from beffroi.mobility.aggregation import bucket_of
from beffroi.mobility.models import TrafficCount
from beffroi.rules import editing
from beffroi.rules.conditions import RuleKind
from beffroi.rules.engine import RuleEngine
from beffroi.rules.schemas import RuleCreate
from beffroi.telemetry.decode import Readings
from beffroi.telemetry.directory import DeviceDirectory
from beffroi.telemetry.store import Batch, TelemetryStore
from tests.support import make_person

pytestmark = pytest.mark.asyncio
DIJON, TALANT = (5.0415, 47.3220), (5.005, 47.337)
API = "/api/v1/mobility"


async def fleet(system: Context) -> None:
    items = [
        AssetCreate(
            id=i,
            type=t,
            name=i,
            commune=c,
            location=Point(coordinates=p),
            attributes=a,
        )
        for i, t, c, p, a in (
            ("TC-DIJ-1", "traffic_controller", "dijon", DIJON, {"bus_priority": True}),
            ("TC-DIJ-2", "traffic_controller", "dijon", DIJON, {"bus_priority": False}),
            ("CNT-DIJ-1", "traffic_counter", "dijon", DIJON, {"lanes": 2}),
            ("CNT-TAL-1", "traffic_counter", "talant", TALANT, {"lanes": 1}),
        )
    ]
    report = await importing.import_assets(system, list(enumerate(items, 1)), source="tests")
    assert not report.errors, report.errors


SECTOR = {
    "controller_id": "TC-DIJ-1",
    "name": "Rue de la Liberté, eastbound",
    "direction": "east",
    "lines": ["L3"],
    "shape": "sector",
    "coordinates": [list(DIJON)],
    "radius_m": 120,
    "bearing_deg": 90,
}


async def test_approaches_are_edited_by_traffic_people_in_their_communes(
    client: httpx.AsyncClient, system: Context
) -> None:
    await fleet(system)
    sup = await make_person(system, "sup", [Role.SUPERVISOR])
    lighting_op = await make_person(system, "op-light", [Role.OPERATOR], ["dijon"])
    talant = await make_person(system, "sup-tal", [Role.SUPERVISOR], ["talant"])

    created = await client.post(f"{API}/approaches", json=SECTOR, headers=sup.headers)
    assert created.status_code == 201, created.text
    approach = created.json()
    assert (approach["commune"], approach["version"]) == ("dijon", 1)

    refused = await client.post(f"{API}/approaches", json=SECTOR, headers=lighting_op.headers)
    assert refused.status_code == 403
    outside = await client.post(f"{API}/approaches", json=SECTOR, headers=talant.headers)
    assert outside.status_code == 404  # the controller does not exist for them
    hidden = await client.get(f"{API}/approaches/{approach['id']}", headers=talant.headers)
    assert hidden.status_code == 404
    assert (await client.get(f"{API}/approaches", headers=talant.headers)).json() == []

    no_priority = {**SECTOR, "controller_id": "TC-DIJ-2"}
    bad = await client.post(f"{API}/approaches", json=no_priority, headers=sup.headers)
    assert bad.status_code == 422
    assert "bus priority" in bad.text
    line_one_point = {**SECTOR, "shape": "line", "bearing_deg": None}
    bad = await client.post(f"{API}/approaches", json=line_one_point, headers=sup.headers)
    assert bad.status_code == 422
    assert "at least two points" in bad.text

    path = f"{API}/approaches/{approach['id']}"
    stale = await client.patch(path, json={"version": 9, "radius_m": 80}, headers=sup.headers)
    assert stale.status_code == 409
    moved = await client.patch(path, json={"version": 1, "radius_m": 80}, headers=sup.headers)
    assert moved.json()["radius_m"] == 80
    assert moved.json()["version"] == 2
    assert (await client.delete(path, headers=sup.headers)).status_code == 204
    assert (await client.get(path, headers=sup.headers)).status_code == 404


async def test_counts_are_aggregated_per_lane_exactly_and_idempotently(
    client: httpx.AsyncClient, runtime: Runtime, system: Context
) -> None:
    await fleet(system)
    hour = bucket_of(utcnow() - timedelta(hours=3), 60)
    m = timedelta(minutes=1)
    store = TelemetryStore(runtime.db, [])
    await store.write(
        Batch(
            readings=[
                Readings(
                    "CNT-DIJ-1",
                    (
                        ("lane_1_count", hour, 20.0, None),
                        ("lane_1_count", hour + 3 * m, 25.0, None),
                        ("lane_1_occupancy_pct", hour, 10.0, None),
                        ("lane_1_occupancy_pct", hour + 3 * m, 20.0, None),
                        ("lane_2_count", hour + 7 * m, 30.0, None),
                        ("lane_2_speed_kmh", hour + 7 * m, 47.5, None),
                    ),
                ),
                Readings("CNT-TAL-1", (("count", hour + 30 * m, 12.0, None),)),
            ]
        )
    )
    now = hour + timedelta(hours=2)
    # A 6-minute count past its 35 days: the run purges it.
    async with runtime.db.write() as session:
        session.add(
            TrafficCount(
                asset_id="CNT-DIJ-1",
                lane=1,
                period_min=6,
                bucket=hour - timedelta(days=40),
                commune_code="dijon",
                vehicles=1,
                flow_vph=10.0,
                samples=1,
            )
        )
    written = await counting.refresh(system, now)
    assert written == 3 + 3  # 6-minute rows, then hourly rows
    assert await counting.refresh(system, now) == written
    async with runtime.db.read() as session:
        oldest = (await session.execute(select(func.min(TrafficCount.bucket)))).scalar()
    assert oldest == hour

    sup = await make_person(system, "sup-dij", [Role.SUPERVISOR], ["dijon"])
    params = {"since": hour.isoformat(), "until": now.isoformat()}
    six = await client.get(f"{API}/counts", params={**params, "period": 6}, headers=sup.headers)
    assert six.status_code == 200, six.text
    rows = [
        (r["asset_id"], r["lane"], r["vehicles"], r["flow_vph"], r["occupancy_pct"], r["speed_kmh"])
        for r in six.json()
    ]
    assert rows == [
        ("CNT-DIJ-1", 1, 45, 450.0, 15.0, None),
        ("CNT-DIJ-1", 2, 30, 300.0, None, 47.5),
    ]
    hourly = await client.get(f"{API}/counts", params=params, headers=sup.headers)
    assert [(r["lane"], r["flow_vph"]) for r in hourly.json()] == [(1, 45.0), (2, 30.0)]

    csv = await client.get(
        f"{API}/counts.csv", params={**params, "asset_id": "CNT-DIJ-1"}, headers=sup.headers
    )
    lines = csv.text.splitlines()
    assert lines[0].startswith("asset_id,lane,period_min,bucket,commune,vehicles,flow_vph")
    assert lines[1].startswith(f"CNT-DIJ-1,1,60,{hour.isoformat()},dijon,45,45.0,15.0,,")
    assert len(lines) == 3

    bad = await client.get(f"{API}/counts", params={"period": 15}, headers=sup.headers)
    assert bad.status_code == 422
    anonymous = await client.get(f"{API}/counts")
    assert anonymous.status_code == 401


async def test_a_lane_congested_for_ten_minutes_raises_a_congestion_alarm(
    runtime: Runtime, system: Context
) -> None:
    """Congestion alarms are the rules engine's threshold rule on a lane's occupancy."""
    await fleet(system)
    await editing.create_rule(
        system,
        RuleCreate(
            key="congestion-lane-1",
            name="Congestion on lane 1",
            kind=RuleKind.THRESHOLD,
            asset_type="traffic_counter",
            params={
                "key": "lane_1_occupancy_pct",
                "op": ">",
                "value": 35,
                "clear_value": 25,
                "for_s": 600,
            },
            alarm_type="congestion",
            severity=Severity.MINOR,
        ),
    )
    directory = DeviceDirectory()
    await directory.refresh(runtime.db)
    engine = RuleEngine(directory.get)
    await engine.refresh(runtime.db)
    start = utcnow() - timedelta(minutes=30)

    async def occupancy(minutes: int, value: float) -> None:
        ts = start + timedelta(minutes=minutes)
        newest = {("CNT-DIJ-1", "lane_1_occupancy_pct"): (ts, value, None)}
        async with runtime.db.write() as session:
            evaluation = await engine.evaluate(session, newest, ts)
            await raising.apply(session, evaluation.signals, ts)

    async def congestion() -> list[str]:
        async with runtime.db.read() as session:
            rows = await session.execute(
                select(Alarm.asset_id, Alarm.state).where(Alarm.alarm_type == "congestion")
            )
            return [f"{r.asset_id}:{r.state}" for r in rows]

    await occupancy(0, 40.0)
    await occupancy(5, 45.0)
    assert await congestion() == []  # five minutes are not ten
    await occupancy(11, 42.0)
    assert await congestion() == ["CNT-DIJ-1:active_unacknowledged"]
