"""Input no layer can store or compare is refused with a 422 naming it, never a 500:
NUL characters, non-finite numbers, dates out of range; strange header values are wrong
credentials like any other."""

from __future__ import annotations

import math
from datetime import date

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

from beffroi.assets import importing
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.commands import service as commands
from beffroi.commands.schemas import CommandCreate
from beffroi.core.context import Context, Runtime
from beffroi.core.errors import InvalidInput
from beffroi.devices.credentials import issue_credentials
from beffroi.energy.service import lighting_energy
from tests.integration.test_console_api import _server as serving
from tests.integration.test_ingest import small_fleet
from tests.support import PASSWORD, Person

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


# --- non-finite numbers (issue 12, item 5) ------------------------------------------------

NOT_FINITE = ["NaN", "Infinity", "-Infinity", "1e999"]
JSON = {"Content-Type": "application/json"}
# (method, path, a JSON body with %s where the number goes, the field the 422 names)
NUMBERS_IN = [
    (
        "POST",
        "/api/v1/commands",
        '{"asset_id": "SL-1", "name": "dim", "params": {"level_pct": %s}}',
        "params.level_pct",
    ),
    (
        "POST",
        "/api/v1/command-batches",
        '{"type": "streetlight", "name": "dim", "params": {"level_pct": %s},'
        ' "target": {"kind": "ids", "asset_ids": ["SL-1", "SL-2"]}}',
        "params.level_pct",
    ),
    ("PUT", "/api/v1/communes", '[{"name": "X", "lat": 47, "lon": %s}]', "0.lon"),
    (
        "POST",
        "/api/v1/rules",
        '{"key": "hot", "name": "Hot", "kind": "threshold", "asset_type": "streetlight",'
        ' "params": {"key": "power_w", "op": ">", "value": %s, "clear_value": 30}}',
        "params.value",
    ),
    (
        "PATCH",
        "/api/v1/assets/SL-1",
        '{"attributes": {"rated_power_w": %s}}',
        "attributes.rated_power_w",
    ),
]


@pytest.fixture
async def fleet(system: Context) -> None:
    """A cabinet with two lights in Talant and a traffic controller in Dijon."""
    await small_fleet(system)


def _fields(r: httpx.Response) -> list[str]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return [e["field"] for e in r.json()["errors"]]


async def test_non_finite_numbers_are_refused_naming_the_field(
    client: httpx.AsyncClient, admin: Person, fleet: None
) -> None:
    headers = {**admin.headers, **JSON}
    wrong = {}
    for method, url, body, field in NUMBERS_IN:
        for number in NOT_FINITE:
            r = await client.request(method, url, content=(body % number).encode(), headers=headers)
            if r.status_code != 422 or [e["field"] for e in r.json()["errors"]] != [field]:
                wrong[f"{method} {url} {number}"] = f"{r.status_code} {r.text[:300]}"
    assert not wrong, wrong
    commands = await client.get("/api/v1/commands", headers=admin.headers)
    assert commands.json()["items"] == [], "nothing was sent"
    # The same requests with a number go through (one with an exponent, which the guard
    # parses to look at): the refusal was the number's.
    for method, url, body, _ in NUMBERS_IN:
        r = await client.request(method, url, content=(body % "4.0e1").encode(), headers=headers)
        assert r.status_code in (200, 201), r.text


async def test_non_finite_numbers_are_refused_by_the_services_too(system: Context) -> None:
    await small_fleet(system)
    for value in (math.nan, math.inf, -math.inf):
        body = CommandCreate(asset_id="SL-1", name="dim", params={"level_pct": value})
        with pytest.raises(InvalidInput) as refused:
            await commands.send_command(system, body)
        assert [e.field for e in refused.value.errors] == ["params.level_pct"]


async def test_devices_sending_non_finite_numbers_are_refused_and_counted(
    client: httpx.AsyncClient, admin: Person, system: Context
) -> None:
    await small_fleet(system)
    secret = dict(await issue_credentials(system, ["TC-1"]))["TC-1"]
    device = {"Authorization": f"Bearer {secret}", **JSON}
    messages = [
        ("telemetry", '{"values": {"plan": %s}}'),
        ("telemetry", '[{"values": {"cycle_s": 90}}, {"values": {"plan": %s}}]'),
        ("events", '{"code": "doorOpen", "active": true, "detail": {"x": %s}}'),
    ]
    for channel, body in messages:
        for number in NOT_FINITE:
            url = f"/api/v1/devices/TC-1/{channel}"
            r = await client.post(url, content=(body % number).encode(), headers=device)
            assert _fields(r) == ["body"], (channel, body, number)
            assert "bad_json" in r.json()["detail"]
    report = await client.get("/api/v1/ingest/rejections", headers=admin.headers)
    assert report.json()["counts"] == {"bad_json": len(messages) * len(NOT_FINITE)}
    state = await client.get("/api/v1/assets/TC-1/state", headers=admin.headers)
    assert state.json()["values"] == {}, "nothing of the messages was stored"
    alarms = await client.get("/api/v1/alarms", headers=admin.headers)
    assert alarms.json()["items"] == [], "the event raised nothing"


# --- header values (item 6) ---------------------------------------------------------------

STRANGE_HEADERS = [
    "é".encode("latin-1"),  # a Latin-1 byte, as a client may send it
    "☃ snow".encode(),  # UTF-8
    b"\xff" * 3 + b"x" * 8000,  # long, and not UTF-8
]


async def test_a_strange_csrf_token_is_a_wrong_one(
    client: httpx.AsyncClient, admin: Person
) -> None:
    r = await client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    assert r.status_code == 200, r.text
    cookie = f"beffroi_session={r.cookies['beffroi_session']}".encode()
    body = {"name": "g", "kind": "list"}
    for value in STRANGE_HEADERS:
        headers = [(b"cookie", cookie), (b"x-csrf-token", value)]
        r = await client.post("/api/v1/groups", json=body, headers=headers)
        assert r.status_code == 403, r.text
        assert r.json()["detail"] == "missing or wrong X-CSRF-Token header"
    me = await client.get("/api/v1/auth/me", headers=[(b"cookie", cookie)])
    csrf = me.json()["csrf_token"]
    headers = [(b"cookie", cookie), (b"x-csrf-token", csrf.encode())]
    r = await client.post("/api/v1/groups", json=body, headers=headers)
    assert r.status_code == 201, r.text


async def test_strange_credentials_and_tags_are_refused_or_ignored(
    client: httpx.AsyncClient, admin: Person, system: Context
) -> None:
    await small_fleet(system)
    me = "/api/v1/auth/me"
    bearer = f"Bearer {admin.token}".encode()
    for value in STRANGE_HEADERS:
        for header in (b"Bearer " + value, b"Bearer bfr_" + value, value):
            r = await client.get(me, headers=[(b"authorization", header)])
            assert r.status_code == 401, r.text
        r = await client.get(me, headers=[(b"cookie", b"beffroi_session=" + value)])
        assert r.status_code == 401, r.text
        r = await client.post(
            "/api/v1/devices/TC-1/telemetry",
            content=b'{"plan": 1}',
            headers=[
                (b"authorization", b"Bearer " + value),
                (b"content-type", b"application/json"),
            ],
        )
        assert r.status_code == 401, r.text
        r = await client.get(
            "/api/v1/assets?format=geojson",
            headers=[(b"authorization", bearer), (b"if-none-match", value)],
        )
        assert r.status_code == 200, r.text
        assert len(r.json()["features"]) == 4


async def test_the_stream_refuses_strange_credentials(runtime: Runtime, admin: Person) -> None:
    async with serving(runtime) as address:
        url = f"ws://{address}/api/v1/stream"
        for headers in (
            {"Authorization": "Bearer é" + "x" * 4000},
            {"Cookie": "beffroi_session=☃"},
        ):
            with pytest.raises(ConnectionClosedError) as refused:
                async with connect(url, additional_headers=headers) as ws:
                    await ws.recv()
            assert refused.value.rcvd is not None
            assert refused.value.rcvd.code == 4401


# --- dates (item 7) -----------------------------------------------------------------------

DATES_OUT_OF_RANGE = [
    ("/api/v1/energy/lighting?day=0001-01-01", "day"),
    ("/api/v1/energy/lighting?day=1899-12-31", "day"),
    ("/api/v1/energy/lighting?day=9999-12-31", "day"),
    ("/api/v1/kpis?from=0001-01-01T00:00:00Z&to=2024-01-01T00:00:00Z", "from"),
    ("/api/v1/kpis?from=2024-01-01T00:00:00Z&to=9999-12-31T23:59:59Z", "to"),
    ("/api/v1/kpis?from=2024-01-01T00:00:00&to=2024-02-01T00:00:00Z", "from"),
    ("/api/v1/audit?since=0001-01-01T00:00:00%2B14:00", "since"),
    ("/api/v1/audit?until=9999-12-31T23:59:59-14:00", "until"),
    ("/api/v1/audit?until=2100-12-31T23:59:59-01:00", "until"),
    ("/api/v1/assets/TC-1/telemetry?key=plan&until=0001-01-01T00:00:00Z", "until"),
    ("/api/v1/assets/TC-1/telemetry?key=plan&since=0001-01-01T00:00:00Z", "since"),
    ("/api/v1/assets/TC-1/telemetry/aggregate?key=plan&until=0001-01-01T00:00:00Z", "until"),
]
DATES_IN_RANGE = [
    "/api/v1/energy/lighting?day=1900-01-01",
    "/api/v1/kpis?from=1900-01-01T00:00:00Z&to=2100-12-31T23:59:59Z",
    "/api/v1/audit?since=1900-01-01T00:00:00Z&until=2100-12-31T12:00:00%2B01:00",
    "/api/v1/assets/TC-1/telemetry?key=plan&since=2000-01-01T00:00:00Z",
]


async def test_dates_out_of_range_are_a_named_422(
    client: httpx.AsyncClient, admin: Person, fleet: None
) -> None:
    wrong = {}
    for url, field in DATES_OUT_OF_RANGE:
        r = await client.get(url, headers=admin.headers)
        if r.status_code != 422 or field not in [e["field"] for e in r.json()["errors"]]:
            wrong[url] = f"{r.status_code} {r.text[:300]}"
    for url in DATES_IN_RANGE:
        r = await client.get(url, headers=admin.headers)
        if r.status_code != 200:
            wrong[url] = f"{r.status_code} {r.text[:300]}"
    assert not wrong, wrong


async def test_dates_in_bodies_and_command_parameters_are_bounded(
    client: httpx.AsyncClient, admin: Person, system: Context
) -> None:
    await small_fleet(system)
    r = await client.patch(
        "/api/v1/assets/SL-1", json={"installed_on": "0001-01-01"}, headers=admin.headers
    )
    assert _fields(r) == ["installed_on"]
    r = await client.patch(
        "/api/v1/assets/SL-1", json={"installed_on": "1987-06-01"}, headers=admin.headers
    )
    assert r.status_code == 200, r.text
    sign = AssetCreate(
        id="VMS-1",
        type="message_sign",
        name="VMS",
        commune="dijon",
        location=Point(coordinates=(5.0, 47.3)),
    )
    await importing.import_assets(system, [(1, sign)])
    body: dict[str, object] = {"asset_id": "VMS-1", "name": "display"}
    for until in ("0001-01-01T00:00:00Z", "2030-01-01T00:00:00", "tomorrow"):
        body["params"] = {"text": "x", "until": until}
        r = await client.post("/api/v1/commands", json=body, headers=admin.headers)
        assert _fields(r) == ["params.until"], until
    body["params"] = {"text": "x", "until": "2030-01-01T00:00:00+01:00"}
    r = await client.post("/api/v1/commands", json=body, headers=admin.headers)
    assert r.status_code == 201, r.text


async def test_the_energy_service_refuses_a_day_out_of_range(system: Context) -> None:
    with pytest.raises(InvalidInput) as refused:
        await lighting_energy(system, date(1, 1, 1))
    assert [e.field for e in refused.value.errors] == ["day"]


async def test_every_answer_carries_the_security_headers(
    client: httpx.AsyncClient, admin: Person
) -> None:
    """An answer, a refusal (no credentials, unstorable input, unknown route) and a page:
    each says nosniff, no framing, no referrer; an answer that chose its own caching keeps
    it."""
    answers = [
        await client.get("/api/v1/assets", headers=admin.headers),
        await client.get("/api/v1/assets"),
        await client.get("/api/v1/assets?q=a%00b", headers=admin.headers),
        await client.get("/api/v1/nothing-here", headers=admin.headers),
        await client.get("/api/health"),
    ]
    assert [a.status_code for a in answers] == [200, 401, 422, 404, 200]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff", answer.url
        assert answer.headers["x-frame-options"] == "DENY", answer.url
        assert answer.headers["referrer-policy"] == "no-referrer", answer.url
        assert answer.headers["cache-control"] == "no-store", answer.url
    # The open data API says how long its answers may be kept: its choice stands.
    public = await client.get("/api/explore/v2.1/catalog/datasets")
    assert public.headers["x-content-type-options"] == "nosniff"
    assert public.headers["cache-control"] != "no-store"
    assert len(public.headers.get_list("cache-control")) == 1
