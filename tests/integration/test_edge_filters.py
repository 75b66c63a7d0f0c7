"""A filter naming a value Beffroi does not know is refused, never read as "matches nothing".

Every closed vocabulary of the API's query parameters (enums, the catalogue's types,
telemetry keys and command names, communes): the 422 names the parameter, the unknown
value and the allowed ones. Free-text filters (ids, names, alarm types, which rules may
coin) still match nothing.
"""

from __future__ import annotations

import httpx
import pytest

from beffroi.core.context import Context
from beffroi.core.principal import Role
from tests.integration.test_ingest import small_fleet
from tests.support import Person, make_person

pytestmark = pytest.mark.asyncio

API = "/api/v1"


@pytest.fixture
async def fleet(system: Context) -> None:
    """A cabinet with two lights in Talant and a traffic controller in Dijon."""
    await small_fleet(system)


# (path and query before the bad value, parameter, a value it allows)
ENUMS = [
    ("/alarms?source=", "source", "device"),
    ("/alarms?domain=", "domain", "lighting"),
    ("/alarms?state=", "state", "active_unacknowledged"),
    ("/alarms?severity=critical,", "severity", "warning"),
    ("/assets?status=", "status", "in_service"),
    ("/assets?type=streetlight,", "type", "lighting_cabinet"),
    ("/assets/export?type=", "type", "streetlight"),
    ("/telemetry/latest?status=", "status", "maintenance"),
    ("/telemetry/latest?type=", "type", "traffic_controller"),
    ("/telemetry/latest?keys=level_pct,", "keys", "detector_{n}_count"),
    ("/commands?state=", "state", "awaiting_approval"),
    ("/commands?name=", "name", "dim"),
    ("/command-batches/B1/commands?state=", "state", "succeeded"),
    ("/interventions?status=", "status", "in_progress"),
    ("/interventions?category=", "category", "lighting"),
    ("/audit?outcome=", "outcome", "denied"),
    ("/rules?asset_type=", "asset_type", "camera"),
    ("/rules?kind=", "kind", "threshold"),
    ("/map?type=", "type", "bollard"),
    ("/notification-deliveries?state=", "state", "failed"),
    ("/kpis?from=2024-01-01T00:00:00Z&to=2024-02-01T00:00:00Z&by=", "by", "category"),
    ("/assets/TC-1/telemetry/aggregate?key=plan&bucket=", "bucket", "1h"),
    ("/assets/TC-1/telemetry?key=", "key", "cycle_s"),
    ("/assets/TC-1/telemetry/aggregate?key=", "key", "plan"),
]


def _refused(r: httpx.Response, field: str, bad: str, allowed: str) -> str | None:
    """What is wrong with the answer to a filter naming ``bad``, if anything."""
    if r.status_code != 422 or r.headers["content-type"] != "application/problem+json":
        return f"{r.status_code} {r.text[:200]}"
    errors = r.json()["errors"]
    fine = [e["field"] for e in errors] == [field] and repr(bad) in errors[0]["message"]
    return None if fine and allowed in errors[0]["message"] else str(errors)


async def test_an_unknown_value_is_named_with_the_allowed_ones(
    client: httpx.AsyncClient, admin: Person, fleet: None
) -> None:
    wrong = {}
    for url, field, allowed in ENUMS:
        r = await client.get(f"{API}{url}bogus", headers=admin.headers)
        if problem := _refused(r, field, "bogus", allowed):
            wrong[url] = problem
    assert not wrong, wrong


COMMUNES = [
    "/alarms?commune=",
    "/assets?commune=",
    "/assets/export?commune=",
    "/telemetry/latest?commune=",
    "/commands?commune=",
    "/interventions?commune=talant,",
    "/audit?commune=",
    "/map?commune=",
]


async def test_an_unknown_commune_is_refused(
    client: httpx.AsyncClient, admin: Person, fleet: None
) -> None:
    wrong = {}
    for url in COMMUNES:
        r = await client.get(f"{API}{url}atlantis", headers=admin.headers)
        if problem := _refused(r, "commune", "atlantis", "talant"):
            wrong[url] = problem
        # Known communes, by code or by name in any case, filter as they did.
        for known in ("TALANT", "Talant", "talant"):
            r = await client.get(f"{API}{url}{known}", headers=admin.headers)
            if r.status_code != 200:
                wrong[url + known] = f"{r.status_code} {r.text[:200]}"
    assert not wrong, wrong


async def test_a_commune_outside_the_scope_is_as_unknown(
    client: httpx.AsyncClient, system: Context, fleet: None
) -> None:
    roles = [Role.SUPERVISOR, Role.AUDITOR]
    talant = await make_person(system, "sup-talant", roles, communes=["talant"])
    wrong = {}
    for url in COMMUNES:
        r = await client.get(f"{API}{url}dijon", headers=talant.headers)
        if problem := _refused(r, "commune", "dijon", "talant"):
            wrong[url] = problem
        elif "dijon" in r.json()["errors"][0]["message"].split("allowed:")[1]:
            wrong[url] = "lists a commune outside the scope"
    assert not wrong, wrong


async def test_filters_still_filter(client: httpx.AsyncClient, admin: Person, fleet: None) -> None:
    def ids(r: httpx.Response) -> list[str]:
        assert r.status_code == 200, r.text
        return sorted(item.get("id") or item["asset_id"] for item in r.json()["items"])

    get = client.get
    h = admin.headers
    assert ids(await get(f"{API}/assets?type=streetlight", headers=h)) == ["SL-1", "SL-2"]
    assert ids(await get(f"{API}/assets?type=streetlight,,traffic_controller ", headers=h)) == [
        "SL-1",
        "SL-2",
        "TC-1",
    ]
    assert ids(await get(f"{API}/assets?commune=Dijon&status=in_service", headers=h)) == ["TC-1"]
    latest = await get(f"{API}/telemetry/latest?keys=detector_3_count,plan&type=", headers=h)
    assert ids(latest) == ["LC-1", "SL-1", "SL-2", "TC-1"]
    assert ids(await get(f"{API}/alarms?source=device&domain=traffic", headers=h)) == []
    # Free text matches nothing rather than being refused.
    for url in ("/alarms?alarm_type=bogus", "/alarms?asset_id=bogus", "/commands?asset_id=bogus"):
        assert ids(await get(f"{API}{url}", headers=h)) == [], url


async def test_several_unknown_values_are_all_named(
    client: httpx.AsyncClient, admin: Person
) -> None:
    r = await client.get(f"{API}/alarms?severity=major,huge,critical,tiny", headers=admin.headers)
    assert r.status_code == 422, r.text
    message = r.json()["errors"][0]["message"]
    assert message.startswith("unknown values 'huge', 'tiny'; allowed: critical, major"), message
