"""Lighting energy against the renovation: daily totals from simulated meters, reports,
their scope and CSV, and maintenance planning."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from beffroi.alarms.models import Alarm
from beffroi.assets import importing
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.communes import queries as commune_queries
from beffroi.core.context import Context, Runtime
from beffroi.core.errors import InvalidInput
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.energy import days
from beffroi.energy.jobs import daily_totals
from beffroi.energy.models import EnergyDaily, EnergyDailyCabinet, EnergyDailyCommune
from beffroi.energy.rollup import roll_days
from beffroi.scheduler.registry import JOBS
from beffroi.telemetry.jobs import roll_up
from beffroi.telemetry.models import TelemetryPoint
from beffroi.telemetry.partitions import PartitionManager
from tests.support import Person, make_person

API = "/api/v1"
PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 11, 18)
TALANT, CHENOVE = (4.999, 47.335), (5.006, 47.292)


def _at(day: date, hour: int, minute: int = 30) -> datetime:
    return datetime.combine(day, time(hour, minute), PARIS).astimezone(UTC)


EVE = DAY - timedelta(days=1)
# (asset, key) -> counter readings (local day, hour, value). The hand figures of DAY:
# SL-TAL-1 rises 100 Wh: 10 in the 01:00 hour and 70 in the 23:00 one (off-peak, 22-6),
#   20 in the 18:00 hour (peak); it burnt 12 h.
# SL-TAL-2 rises 40 Wh at 20:00 (peak), and has no baseline.
# SL-CHE-1 rises 200 Wh at 19:00 (peak); without a lamp_hours counter, it burnt the two
#   hours its level was above zero.
# CAB-TAL's own meter rises 300 Wh: 50 at 12:00 (peak), 250 at 23:00 (off-peak).
READINGS = {
    ("SL-TAL-1", "energy_wh"): [(EVE, 23, 1000), (DAY, 1, 1010), (DAY, 18, 1030), (DAY, 23, 1100)],
    ("SL-TAL-1", "lamp_hours"): [(EVE, 23, 500), (DAY, 23, 512)],
    ("SL-TAL-2", "energy_wh"): [(EVE, 23, 0), (DAY, 20, 40)],
    ("SL-CHE-1", "energy_wh"): [(EVE, 23, 7000), (DAY, 19, 7200)],
    ("SL-CHE-1", "level_pct"): [(DAY, 19, 80), (DAY, 20, 80), (DAY, 21, 0)],
    ("CAB-TAL", "energy_wh"): [(EVE, 23, 5000), (DAY, 12, 5050), (DAY, 23, 5300)],
}


async def _world(runtime: Runtime, system: Context) -> None:
    def asset(
        i: str, t: str, commune: str, at: tuple[float, float], **attrs: object
    ) -> AssetCreate:
        parent = {"parent_id": f"CAB-{commune[:3].upper()}"} if t == "streetlight" else {}
        model = {"manufacturer": "Maker", "model": f"M-{i[-1]}"} if t == "streetlight" else {}
        return AssetCreate(
            id=i,
            type=t,
            name=i,
            commune=commune,
            location=Point(coordinates=at),
            attributes=attrs,
            **parent,
            **model,
        )

    items = [
        asset("CAB-TAL", "lighting_cabinet", "talant", TALANT),
        asset("CAB-CHE", "lighting_cabinet", "chenove", CHENOVE),
        asset(
            "SL-TAL-1",
            "streetlight",
            "talant",
            TALANT,
            rated_power_w=30,
            lamp_type="HPS",
            former_power_w=100,
            former_burning_hours_per_year=4000,
            burning_hours_before_h=23_000,
        ),
        asset(
            "SL-TAL-2",
            "streetlight",
            "talant",
            TALANT,
            rated_power_w=30,
            lamp_type="LED",
            burning_hours_before_h=1000,
        ),
        asset(
            "SL-CHE-1",
            "streetlight",
            "chenove",
            CHENOVE,
            rated_power_w=60,
            lamp_type="LED",
            former_power_w=200,
            former_burning_hours_per_year=4380,
            rated_life_h=20_000,
            burning_hours_before_h=19_000,
        ),
    ]
    report = await importing.import_assets(system, list(enumerate(items, 1)), source="tests")
    assert not report.errors, report.errors
    if runtime.db.is_postgres:
        await PartitionManager().ensure(runtime.db.engine, [EVE, DAY, DAY + timedelta(days=1)])
    async with runtime.db.write() as session:
        for (asset_id, key), readings in READINGS.items():
            for day, hour, value in readings:
                session.add(
                    TelemetryPoint(asset_id=asset_id, key=key, ts=_at(day, hour), value=value)
                )
    await roll_up(runtime.db, now=_at(DAY + timedelta(days=1), 6, 0))
    await roll_days(runtime.db, runtime.settings, EVE, DAY)


async def _share(runtime: Runtime) -> float:
    async with runtime.db.read() as session:
        sun = await commune_queries.city_sun(session, runtime.settings.timezone)
    return days.year_share(sun, DAY)


@pytest.fixture
async def people(runtime: Runtime, system: Context) -> dict[str, Person]:
    await _world(runtime, system)
    return {
        "talant": await make_person(system, "op-talant", [Role.OPERATOR], ["talant"]),
        "admin": await make_person(system, "admin", [Role.ADMIN]),
    }


def _day_params(**more: str) -> dict[str, str]:
    return {"since": DAY.isoformat(), "until": DAY.isoformat(), "granularity": "day", **more}


async def test_savings_from_simulated_meters_equal_the_hand_figure(
    client: httpx.AsyncClient, people: dict[str, Person], runtime: Runtime
) -> None:
    share = await _share(runtime)
    answer = await client.get(
        f"{API}/energy/report", params=_day_params(), headers=people["admin"].headers
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    total = body["total"]
    baseline = (100 * 4000 + 200 * 4380) * share
    assert total["energy_wh"] == pytest.approx(340)
    assert total["offpeak_wh"] == pytest.approx(80)
    assert total["peak_wh"] == pytest.approx(260)
    assert total["supply_wh"] == pytest.approx(300)
    assert total["compared_wh"] == pytest.approx(300)  # SL-TAL-2 has no baseline
    assert total["baseline_wh"] == pytest.approx(baseline)
    assert total["savings"] == pytest.approx(1 - 300 / baseline)
    assert body["meets_target"] is (1 - 300 / baseline >= 0.65)
    settings = runtime.settings
    cost = (
        260 * settings.energy_peak_eur_per_kwh + 80 * settings.energy_offpeak_eur_per_kwh
    ) / 1000
    assert total["cost_eur"] == round(cost, 2)
    assert total["co2_kg"] == pytest.approx(340 * settings.energy_co2_g_per_kwh / 1e6, abs=1e-3)
    assert total["burning_h"] == pytest.approx(12 + 2)
    assert [p["month"] for p in body["trend"]][-1] == "2026-11-01"
    assert body["trend"][-1]["savings"] == pytest.approx(1 - 300 / baseline)
    assert len(body["trend"]) == 12

    # A share of a year's burning: the December nights outweigh the June ones.
    assert 1 / 365 < share < 1.5 / 365
    async with runtime.db.read() as session:
        sun = await commune_queries.city_sun(session, runtime.settings.timezone)
    year = [days.year_share(sun, date(2026, 1, 1) + timedelta(days=d)) for d in range(365)]
    assert sum(year) == pytest.approx(1)
    assert days.year_share(sun, date(2026, 12, 21)) > 1.5 * days.year_share(sun, date(2026, 6, 21))


async def test_rows_per_level_in_scope(
    client: httpx.AsyncClient, people: dict[str, Person], runtime: Runtime
) -> None:
    share = await _share(runtime)
    talant = people["talant"].headers
    communes = (
        await client.get(
            f"{API}/energy/report", params=_day_params(level="commune"), headers=talant
        )
    ).json()
    assert [(r["key"], r["energy_wh"], r["supply_wh"]) for r in communes["rows"]] == [
        ("talant", 140, 300)
    ]
    assert communes["rows"][0]["savings"] == pytest.approx(1 - 100 / (100 * 4000 * share))
    # Another commune, or a cabinet of it, asked for is unknown to them, never its figures.
    for field, value in [("commune", "chenove"), ("cabinet", "CAB-CHE"), ("commune", "nowhere")]:
        other = await client.get(
            f"{API}/energy/report", params=_day_params(**{field: value}), headers=talant
        )
        assert other.status_code == 422, other.text
        assert [e["field"] for e in other.json()["errors"]] == [field]
    admin = people["admin"].headers
    cabinets = (
        await client.get(f"{API}/energy/report", params=_day_params(level="cabinet"), headers=admin)
    ).json()
    assert [(r["key"], r["energy_wh"], r["light_days"]) for r in cabinets["rows"]] == [
        ("CAB-CHE", 200, 1),
        ("CAB-TAL", 140, 2),
    ]
    lights = (
        await client.get(
            f"{API}/energy/report",
            params=_day_params(level="light", cabinet="CAB-TAL"),
            headers=admin,
        )
    ).json()
    assert [(r["key"], r["energy_wh"], r["offpeak_wh"]) for r in lights["rows"]] == [
        ("SL-TAL-1", 100, 80),
        ("SL-TAL-2", 40, 0),
    ]
    assert lights["rows"][1]["savings"] is None
    yearly = (
        await client.get(
            f"{API}/energy/report",
            params={"granularity": "year", "since": "2026-01-01", "until": "2026-12-31"},
            headers=admin,
        )
    ).json()
    assert [(r["period"], r["energy_wh"]) for r in yearly["rows"]] == [("2026-01-01", 340)]


async def test_csv_gives_the_same_rows(
    client: httpx.AsyncClient, people: dict[str, Person]
) -> None:
    params = _day_params(level="light", cabinet="CAB-TAL")
    headers = people["admin"].headers
    rows = (await client.get(f"{API}/energy/report", params=params, headers=headers)).json()["rows"]
    answer = await client.get(f"{API}/energy/report.csv", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    table = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["key"] for r in table] == ["SL-TAL-1", "SL-TAL-2"]
    assert float(table[0]["energy_wh"]) == rows[0]["energy_wh"]
    assert float(table[0]["savings"]) == pytest.approx(rows[0]["savings"])
    assert table[1]["savings"] == ""
    assert list(table[0]) == list(rows[0])


async def test_bad_parameters_are_named(
    client: httpx.AsyncClient, people: dict[str, Person]
) -> None:
    headers = people["admin"].headers

    async def fields(**params: str) -> list[str]:
        answer = await client.get(f"{API}/energy/report", params=params, headers=headers)
        assert answer.status_code == 422, answer.text
        return [e["field"] for e in answer.json()["errors"]]

    assert await fields(level="planet") == ["level"]
    assert await fields(granularity="week") == ["granularity"]
    assert await fields(since="2026-05-02", until="2026-05-01") == ["since"]
    assert await fields(since="2020-01-01", until="2026-01-01") == ["until"]
    assert await fields(level="light") == ["level"]
    assert await fields(asset="SL-TAL-1") == ["asset"]
    assert (await client.get(f"{API}/energy/report")).status_code == 401


async def test_the_rollup_is_idempotent_and_takes_late_readings(
    people: dict[str, Person], runtime: Runtime
) -> None:
    async def table() -> list[tuple[object, ...]]:
        async with runtime.db.read() as session:
            daily = await session.execute(
                select(EnergyDaily.asset_id, EnergyDaily.energy_wh, EnergyDaily.offpeak_wh)
                .where(EnergyDaily.day == DAY)
                .order_by(EnergyDaily.asset_id)
            )
            summed = await session.execute(
                select(func.count(), func.sum(EnergyDailyCabinet.energy_wh)).where(
                    EnergyDailyCabinet.day == DAY
                )
            )
            communes = await session.execute(
                select(EnergyDailyCommune.commune_code, EnergyDailyCommune.supply_wh)
                .where(EnergyDailyCommune.day == DAY)
                .order_by(EnergyDailyCommune.commune_code)
            )
            return [*map(tuple, daily), *map(tuple, communes), tuple(summed.one())]

    before = await table()
    assert before[:-1] == [
        ("CAB-TAL", 300, 250),
        ("SL-CHE-1", 200, 0),
        ("SL-TAL-1", 100, 80),
        ("SL-TAL-2", 40, 0),
        ("chenove", None),
        ("talant", 300),
    ]
    assert before[-1] == (2, 340)
    await roll_days(runtime.db, runtime.settings, EVE, DAY)
    assert await table() == before
    # A reading arriving late for the day's last hour is counted at the next run.
    async with runtime.db.write() as session:
        session.add(
            TelemetryPoint(asset_id="SL-TAL-2", key="energy_wh", ts=_at(DAY, 23, 45), value=55)
        )
    await roll_up(runtime.db, now=_at(DAY + timedelta(days=1), 6, 0))
    await roll_days(runtime.db, runtime.settings, DAY, DAY)
    after = await table()
    assert after[3] == ("SL-TAL-2", 55, 15)
    assert after[-1] == (2, 355)


async def test_lamps_due_for_replacement_and_failures_per_model(
    client: httpx.AsyncClient, people: dict[str, Person], runtime: Runtime
) -> None:
    async with runtime.db.write() as session:
        for n, asset_id in enumerate(["SL-TAL-1", "SL-TAL-1", "SL-CHE-1"]):
            commune = "talant" if "TAL" in asset_id else "chenove"
            session.add(
                Alarm(
                    asset_id=asset_id,
                    asset_type="streetlight",
                    commune_code=commune,
                    domain="lighting",
                    alarm_type="lampFailure",
                    source="device",
                    severity="minor",
                    state="cleared_acknowledged",
                    raised_at=_at(DAY, 20) - timedelta(days=n),
                    last_seen_at=_at(DAY, 20),
                    updated_at=_at(DAY, 20),
                )
            )
    admin, talant = people["admin"].headers, people["talant"].headers
    due = (await client.get(f"{API}/energy/maintenance/due", headers=admin)).json()
    # 23,000 h before + 12 h measured of an HPS lamp's 24,000; 19,002 of a 20,000 h LED.
    assert [(d["id"], d["burning_h"], d["rated_life_h"]) for d in due] == [
        ("SL-TAL-1", 23_012, 24_000),
        ("SL-CHE-1", 19_002, 20_000),
    ]
    assert due[0]["life_used"] == pytest.approx(23_012 / 24_000, abs=1e-4)
    mine = (await client.get(f"{API}/energy/maintenance/due", headers=talant)).json()
    assert [d["id"] for d in mine] == ["SL-TAL-1"]
    strict = await client.get(
        f"{API}/energy/maintenance/due", params={"share": 0.96}, headers=admin
    )
    assert [d["id"] for d in strict.json()] == []
    bad = await client.get(f"{API}/energy/maintenance/due", params={"share": 0}, headers=admin)
    assert [e["field"] for e in bad.json()["errors"]] == ["share"]
    as_csv = await client.get(f"{API}/energy/maintenance/due.csv", headers=admin)
    assert [r["id"] for r in csv.DictReader(io.StringIO(as_csv.text))] == ["SL-TAL-1", "SL-CHE-1"]

    models = (
        await client.get(
            f"{API}/energy/maintenance/models", params={"until": DAY.isoformat()}, headers=admin
        )
    ).json()
    # SL-TAL-1 and SL-CHE-1 are both Maker M-1 (an HPS and an LED: no common technology).
    assert [(m["model"], m["lights"], m["failures"], m["lamp_type"]) for m in models] == [
        ("M-1", 2, 3, None),
        ("M-2", 1, 0, "LED"),
    ]
    assert models[0]["failures_per_light"] == 1.5
    since_day = await client.get(
        f"{API}/energy/maintenance/models",
        params={"since": DAY.isoformat(), "until": DAY.isoformat()},
        headers=talant,
    )
    assert [(m["model"], m["failures"]) for m in since_day.json()] == [("M-1", 1), ("M-2", 0)]


async def test_import_checks_the_baseline_attributes(system: Context) -> None:
    bad = AssetCreate(
        id="SL-BAD",
        type="streetlight",
        name="bad",
        commune="talant",
        location=Point(coordinates=TALANT),
        attributes={"former_power_w": 5000, "former_burning_hours_per_year": 9000},
    )
    with pytest.raises(InvalidInput) as refused:
        await importing.import_assets(system, [(1, bad)], source="tests")
    fields = sorted(e.field for e in refused.value.errors)
    assert fields == [
        "attributes.former_burning_hours_per_year",
        "attributes.former_power_w",
    ], refused.value.errors


async def test_the_hourly_job_recomputes_yesterday_and_today(system: Context) -> None:
    assert any(job.name == "energy.daily-totals" for job in JOBS)
    done = await daily_totals(system)
    today = utcnow().astimezone(PARIS).date()
    assert (done.first, done.last, done.assets) == (today - timedelta(days=1), today, 0)


async def test_a_csv_import_carries_the_baseline_attributes(
    client: httpx.AsyncClient, people: dict[str, Person]
) -> None:
    headers = {**people["admin"].headers, "content-type": "text/csv"}
    columns = "id,type,name,commune,lon,lat,parent_id,attr.former_power_w,"
    columns += "attr.former_burning_hours_per_year,attr.burning_hours_before_h"
    good = [columns, "SL-TAL-9,streetlight,PL 9,talant,5.0,47.33,CAB-TAL,168,4100,12000"]
    answer = await client.post(f"{API}/assets/import", content="\n".join(good), headers=headers)
    assert answer.status_code == 200, answer.text
    asset = (await client.get(f"{API}/assets/SL-TAL-9", headers=people["admin"].headers)).json()
    assert asset["attributes"]["former_power_w"] == 168
    assert asset["attributes"]["former_burning_hours_per_year"] == 4100
    assert asset["attributes"]["burning_hours_before_h"] == 12000
    bad = [columns, "SL-TAL-8,streetlight,PL 8,talant,5.0,47.33,CAB-TAL,168,9999,0"]
    refused = await client.post(f"{API}/assets/import", content="\n".join(bad), headers=headers)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == [
        "attributes.former_burning_hours_per_year"
    ]


async def test_the_calendar_edges_answer(
    client: httpx.AsyncClient, people: dict[str, Person]
) -> None:
    headers = people["admin"].headers
    for path, params in [
        ("report", {"since": "1900-01-01", "until": "1902-12-31", "granularity": "year"}),
        ("report", {"since": "2098-01-02", "until": "2100-12-31", "level": "commune"}),
        ("report", {"until": "1900-01-01"}),
        ("report.csv", {"level": "light", "asset": "SL-TAL-1", "until": "2100-12-31"}),
        ("maintenance/models", {"since": "1900-01-01", "until": "2100-12-31"}),
        ("maintenance/due", {"share": "2"}),
    ]:
        answer = await client.get(f"{API}/energy/{path}", params=params, headers=headers)
        assert answer.status_code == 200, (path, params, answer.text)
