"""Lighting energy: metered today against last year's same weekday and full power."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from beffroi.assets import importing
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.telemetry.models import TelemetryPoint, TelemetryRollup
from beffroi.telemetry.partitions import PartitionManager
from tests.support import Person, make_person

API = "/api/v1"
PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 11, 18)  # a Wednesday: about fifteen hours of night in Dijon
TALANT, CHENOVE = (4.999, 47.335), (5.006, 47.292)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), PARIS).astimezone(UTC)


async def _world(runtime: Runtime, system: Context) -> None:
    def asset(
        i: str, t: str, commune: str, at: tuple[float, float], **attrs: object
    ) -> AssetCreate:
        parent = {"parent_id": f"CAB-{commune[:3].upper()}"} if t == "streetlight" else {}
        return AssetCreate(
            id=i,
            type=t,
            name=i,
            commune=commune,
            location=Point(coordinates=at),
            attributes=attrs,
            **parent,
        )

    items = [
        asset("CAB-TAL", "lighting_cabinet", "talant", TALANT),
        asset("CAB-CHE", "lighting_cabinet", "chenove", CHENOVE),
        asset("SL-TAL-1", "streetlight", "talant", TALANT, rated_power_w=50),
        asset("SL-TAL-2", "streetlight", "talant", TALANT, rated_power_w=30),
        asset("SL-CHE-1", "streetlight", "chenove", CHENOVE, rated_power_w=100),
    ]
    report = await importing.import_assets(system, list(enumerate(items, 1)), source="tests")
    assert not report.errors, report.errors
    if runtime.db.is_postgres:
        days = [DAY - timedelta(days=1), DAY, DAY + timedelta(days=1)]
        await PartitionManager().ensure(runtime.db.engine, days)
    year_before = DAY - timedelta(days=364)
    async with runtime.db.write() as session:
        for cabinet, readings in {
            "CAB-TAL": [(1, 10_000.0), (9, 10_250.0), (21, 10_600.0)],
            "CAB-CHE": [(2, 50_000.0), (22, 50_900.0)],
        }.items():
            for hour, wh in readings:
                session.add(
                    TelemetryPoint(asset_id=cabinet, key="energy_wh", ts=_at(DAY, hour), value=wh)
                )
        # A year before, the same weekday: only hourly rollups are left.
        for hour, low, high in [(3, 500.0, 600.0), (20, 700.0, 800.0)]:
            session.add(
                TelemetryRollup(
                    asset_id="CAB-TAL",
                    key="energy_wh",
                    bucket=_at(year_before, hour),
                    count=4,
                    sum=4 * low,
                    min=low,
                    max=high,
                )
            )


@pytest.fixture
async def people(runtime: Runtime, system: Context) -> dict[str, Person]:
    await _world(runtime, system)
    return {
        "talant": await make_person(system, "op-talant", [Role.OPERATOR], ["talant"]),
        "admin": await make_person(system, "admin", [Role.ADMIN]),
    }


async def test_a_days_energy_in_scope_beside_its_baselines(
    client: httpx.AsyncClient, people: dict[str, Person]
) -> None:
    answer = await client.get(
        f"{API}/energy/lighting", params={"day": DAY.isoformat()}, headers=people["talant"].headers
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # Talant's cabinet alone: 10,600 - 10,000 Wh; a year before, 800 - 500 Wh.
    assert (body["measured_wh"], body["cabinets"], body["cabinets_reporting"]) == (600, 1, 1)
    assert body["last_year"] == {"day": "2025-11-19", "wh": 300.0, "cabinets_reporting": 1}
    # Two lights, 80 W, for the hours of darkness of that local day (about fifteen).
    assert body["lights"] == 2
    assert 14.5 < body["lit_hours"] < 16
    assert body["full_power_wh"] == pytest.approx(80 * body["lit_hours"], rel=1e-3)
    assert body["since"] == _at(DAY, 0).isoformat().replace("+00:00", "Z")

    everything = (
        await client.get(
            f"{API}/energy/lighting",
            params={"day": DAY.isoformat()},
            headers=people["admin"].headers,
        )
    ).json()
    assert (everything["measured_wh"], everything["cabinets_reporting"]) == (1500, 2)
    assert everything["lights"] == 3


async def test_a_day_without_readings_or_not_begun(
    client: httpx.AsyncClient, people: dict[str, Person]
) -> None:
    headers = people["talant"].headers
    quiet = (
        await client.get(f"{API}/energy/lighting", params={"day": "2026-11-10"}, headers=headers)
    ).json()
    assert quiet["measured_wh"] is None
    assert quiet["last_year"]["wh"] is None
    future = await client.get(
        f"{API}/energy/lighting", params={"day": "2099-01-01"}, headers=headers
    )
    assert future.status_code == 422
    assert future.json()["errors"] == [{"field": "day", "message": "2099-01-01 has not begun"}]
    beyond = await client.get(
        f"{API}/energy/lighting", params={"day": "2999-01-01"}, headers=headers
    )
    assert beyond.json()["errors"] == [
        {"field": "day", "message": "must be between 1900-01-01 and 2100-12-31"}
    ]
    today = await client.get(f"{API}/energy/lighting", headers=headers)
    assert today.status_code == 200, today.text
    assert (await client.get(f"{API}/energy/lighting")).status_code == 401
