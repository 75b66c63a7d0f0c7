"""Reading what devices reported, and HTTP ingest for devices without MQTT."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest

from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.devices.credentials import issue_credentials
from tests.integration.test_ingest import message, pipeline_for, small_fleet
from tests.support import Person, make_person

pytestmark = pytest.mark.asyncio


async def _power_series(runtime: Runtime, start: datetime, minutes: int) -> None:
    pipeline, _ = await pipeline_for(runtime)
    readings = [
        {"ts": (start + timedelta(minutes=m)).isoformat(), "values": {"power_w": float(m % 60)}}
        for m in range(minutes)
    ]
    await pipeline.process([message(1, "devices/LC-1/telemetry", readings)])


async def test_series_aggregates_latest_and_state(
    client: httpx.AsyncClient, admin: Person, system: Context, runtime: Runtime
) -> None:
    await small_fleet(system)
    start = (utcnow() - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    await _power_series(runtime, start, 120)
    h = admin.headers
    since, until = start.isoformat(), (start + timedelta(hours=2)).isoformat()
    r = await client.get(
        "/api/v1/assets/LC-1/telemetry",
        params={"key": "power_w", "since": since, "until": until},
        headers=h,
    )
    assert r.status_code == 200, r.text
    points = r.json()["points"]
    assert len(points) == 120
    assert points[0]["value"] == 0

    r = await client.get(
        "/api/v1/assets/LC-1/telemetry/aggregate",
        params={"key": "power_w", "bucket": "1h", "since": since, "until": until},
        headers=h,
    )
    buckets = r.json()["buckets"]
    assert [b["count"] for b in buckets] == [60, 60]
    assert buckets[0]["min"] == 0
    assert buckets[0]["max"] == 59
    assert buckets[0]["avg"] == pytest.approx(29.5)
    assert buckets[0]["sum"] == sum(range(60))

    r = await client.get(
        "/api/v1/assets/LC-1/telemetry/aggregate",
        params={"key": "power_w", "bucket": "15m", "since": since, "until": until},
        headers=h,
    )
    assert [b["count"] for b in r.json()["buckets"]] == [15] * 8

    r = await client.get("/api/v1/assets/LC-1/state", headers=h)
    state = r.json()
    assert state["online"] is True
    assert state["values"]["power_w"]["value"] == 59

    r = await client.get(
        "/api/v1/telemetry/latest", params={"commune": "talant", "keys": "power_w"}, headers=h
    )
    items = {i["asset_id"]: i for i in r.json()["items"]}
    assert set(items) == {"LC-1", "SL-1", "SL-2"}
    assert items["LC-1"]["values"]["power_w"]["value"] == 59
    assert items["SL-1"]["online"] is None


async def test_daily_buckets_follow_the_city_day(
    client: httpx.AsyncClient, admin: Person, system: Context, runtime: Runtime
) -> None:
    await small_fleet(system)
    # 22:00 to 02:00 UTC on a winter night is 23:00 to 03:00 in Paris: two local days.
    start = (utcnow() - timedelta(days=3)).replace(hour=22, minute=0, second=0, microsecond=0)
    await _power_series(runtime, start, 240)
    r = await client.get(
        "/api/v1/assets/LC-1/telemetry/aggregate",
        params={
            "key": "power_w",
            "bucket": "1d",
            "since": (start - timedelta(hours=2)).isoformat(),
            "until": (start + timedelta(hours=6)).isoformat(),
        },
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    buckets = r.json()["buckets"]
    assert [b["count"] for b in buckets] == [60, 180]
    first = datetime.fromisoformat(buckets[0]["start"])
    assert first.astimezone(UTC).hour == 23  # midnight in Paris, winter time


async def test_telemetry_respects_commune_scope(
    client: httpx.AsyncClient, system: Context, runtime: Runtime
) -> None:
    await small_fleet(system)
    await _power_series(runtime, utcnow() - timedelta(hours=1), 10)
    dijon = await make_person(system, "dijon-op", [Role.VIEWER], communes=["dijon"])
    r = await client.get("/api/v1/assets/LC-1/telemetry?key=power_w", headers=dijon.headers)
    assert r.status_code == 404
    r = await client.get("/api/v1/telemetry/latest", headers=dijon.headers)
    assert [i["asset_id"] for i in r.json()["items"]] == ["TC-1"]


async def test_http_ingest_with_a_device_token(
    client: httpx.AsyncClient, admin: Person, system: Context
) -> None:
    await small_fleet(system)
    secret = dict(await issue_credentials(system, ["TC-1"]))["TC-1"]
    device = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    body = orjson.dumps({"ts": utcnow().isoformat(), "values": {"mode": "normal", "plan": 4}})
    r = await client.post("/api/v1/devices/TC-1/telemetry", content=body, headers=device)
    assert r.status_code == 202, r.text
    assert r.json() == {"points": 2}
    r = await client.post(
        "/api/v1/devices/TC-1/telemetry", content=b'{"plan": 999}', headers=device
    )
    assert r.status_code == 422
    assert "out_of_range" in r.json()["detail"]
    wrong = {**device, "Authorization": "Bearer not-the-secret"}
    r = await client.post("/api/v1/devices/TC-1/telemetry", content=body, headers=wrong)
    assert r.status_code == 401
    event = orjson.dumps({"code": "doorOpen", "active": True})
    r = await client.post("/api/v1/devices/TC-1/events", content=event, headers=device)
    assert r.status_code == 202, r.text
    # A person's token is not a device's.
    r = await client.post("/api/v1/devices/TC-1/telemetry", content=body, headers=admin.headers)
    assert r.status_code == 401

    report = await client.get("/api/v1/ingest/rejections", headers=admin.headers)
    assert report.json()["counts"] == {"out_of_range": 1, "wrong_credentials": 2}
    state = await client.get("/api/v1/assets/TC-1/state", headers=admin.headers)
    assert state.json()["values"]["plan"]["value"] == 4


async def test_metrics_need_an_allowed_account(
    client: httpx.AsyncClient, admin: Person, system: Context
) -> None:
    viewer = await make_person(system, "viewer", [Role.VIEWER])
    assert (await client.get("/metrics", headers=viewer.headers)).status_code == 403
    r = await client.get("/metrics", headers=admin.headers)
    assert r.status_code == 200
    assert "beffroi_ingest_points_total" in r.text
