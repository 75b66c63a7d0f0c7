"""Why devices fail, where operators look: refused logins and readable rejected messages.

The second hardening issue found failed MQTT logins only counted in /metrics, and rejected
payloads shown as Python bytes literals (``b'...'``).
"""

from __future__ import annotations

import base64

import aiomqtt
import httpx

from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.devices.credentials import revoke_credentials
from beffroi.telemetry.decode import Reason, Rejection
from beffroi.telemetry.rejects import PAYLOAD_SAMPLE_BYTES, payload_sample
from beffroi.telemetry.store import Batch, TelemetryStore
from tests.mqtt_support import make_device_site, start_embedded_broker
from tests.support import Person, make_person

LOGINS = "/api/v1/ingest/login-failures"


async def refused(port: int, username: str, password: str, client_id: str | None = None) -> bool:
    """Whether the broker refuses this CONNECT."""
    try:
        async with aiomqtt.Client(
            "127.0.0.1",
            port,
            username=username,
            password=password,
            identifier=username if client_id is None else client_id,
            timeout=5,
        ):
            return False
    except aiomqtt.MqttError:
        return True


async def test_refused_logins_are_listed_per_device_with_their_reason(
    runtime: Runtime, system: Context, client: httpx.AsyncClient, admin: Person
) -> None:
    site = await make_device_site(system)
    a, b = site.child, site.other
    await revoke_credentials(system, b)
    async with start_embedded_broker(runtime) as broker:
        assert broker.port is not None
        await broker.refresh()
        for _ in range(5):  # a device retrying: one row, counted
            assert await refused(broker.port, a, "wrong")
        assert await refused(broker.port, a, site.secrets[a], client_id="not-its-own")
        assert await refused(broker.port, b, site.secrets[b])
        assert await refused(broker.port, "NOBODY", "x")
        assert await refused(broker.port, site.gateway, "")
        await broker.failures.flush(runtime.db)
    r = await client.get(LOGINS, headers=admin.headers)
    assert r.status_code == 200, r.text
    rows = {(i["username"], i["reason"]): i for i in r.json()["items"]}
    assert rows[(a, "wrong_secret")]["count"] == 5
    assert rows[(a, "wrong_secret")]["source"] == "mqtt"
    assert rows[(a, "client_id_mismatch")]["client_id"] == "not-its-own"
    assert (b, "revoked") in rows
    assert ("NOBODY", "unknown_device") in rows
    assert (site.gateway, "wrong_secret") in rows

    # One device's list, as its panel shows it; and HTTP ingest's refusals beside MQTT's.
    http = await client.post(
        f"/api/v1/devices/{a}/telemetry",
        content=b'{"values": {"power_w": 1}}',
        headers={"Authorization": "Bearer wrong", "Content-Type": "application/json"},
    )
    assert http.status_code == 401
    r = await client.get(LOGINS, params={"asset_id": a}, headers=admin.headers)
    mine = {(i["reason"], i["source"]) for i in r.json()["items"]}
    assert mine == {
        ("wrong_secret", "mqtt"),
        ("client_id_mismatch", "mqtt"),
        ("wrong_secret", "http"),
    }

    # A supervisor of Talant sees Talant's devices only: not Chenôve's, not made-up names.
    talant = await make_person(system, "talant-sup", [Role.SUPERVISOR], ["talant"])
    r = await client.get(LOGINS, headers=talant.headers)
    assert {i["username"] for i in r.json()["items"]} == {a, site.gateway}
    viewer = await make_person(system, "viewer", [Role.VIEWER])
    assert (await client.get(LOGINS, headers=viewer.headers)).status_code == 403


async def test_a_flood_of_made_up_usernames_stays_bounded(
    runtime: Runtime, system: Context
) -> None:
    from beffroi.devices.logins import MAX_KEYS, LoginFailureLog, Refusal, Source, login_failures

    log = LoginFailureLog()
    for n in range(MAX_KEYS * 3):
        log.note(f"ghost-{n}", Refusal.NOT_ACTIVE, Source.MQTT)
    assert len(log) == MAX_KEYS + 1, "the rest folded into one row"
    assert await log.flush(runtime.db) == MAX_KEYS + 1
    rows = await login_failures(system, limit=1000)
    assert sum(r.count for r in rows) == MAX_KEYS * 3
    assert {r.reason for r in rows} == {"unknown_device"}


def test_payload_samples_are_text_or_marked_base64() -> None:
    assert payload_sample('{"values": {"é": 1}}'.encode()) == ('{"values": {"é": 1}}', "utf-8")
    binary = b"\xff\xfe\x00garbage"
    assert payload_sample(binary) == (base64.b64encode(binary).decode(), "base64")
    # Text cut inside a character at the sampling limit is still text.
    long = ("é" * PAYLOAD_SAMPLE_BYTES).encode()
    text, encoding = payload_sample(long)
    assert encoding == "utf-8"
    assert set(text) == {"é"}


async def test_rejections_show_text_or_base64_with_their_size(
    runtime: Runtime, system: Context, client: httpx.AsyncClient, admin: Person
) -> None:
    site = await make_device_site(system)
    a = site.child
    topic = f"beffroi/v1/devices/{a}/telemetry"
    text_payload = b'{"values": {"power_w": "high"}}' + b" " * 1000
    await TelemetryStore(runtime.db).write(
        Batch(
            rejections=[
                Rejection(Reason.BAD_VALUE, "power_w must be a number", topic, text_payload, a),
                Rejection(Reason.BAD_ENCODING, "payload is not UTF-8", topic, b"\xff\x00", a),
            ]
        )
    )
    r = await client.get("/api/v1/ingest/rejections", params={"asset_id": a}, headers=admin.headers)
    assert r.status_code == 200, r.text
    by_reason = {item["reason"]: item for item in r.json()["recent"]}
    bad_value = by_reason["bad_value"]
    assert bad_value["payload"].startswith('{"values": {"power_w": "high"}}')
    assert bad_value["payload_encoding"] == "utf-8"
    assert bad_value["payload_size"] == len(text_payload)
    assert len(bad_value["payload"]) == PAYLOAD_SAMPLE_BYTES, "truncated"
    assert bad_value["asset_id"] == a
    encoded = by_reason["bad_encoding"]
    assert encoded["payload_encoding"] == "base64"
    assert base64.b64decode(encoded["payload"]) == b"\xff\x00"
    assert r.json()["counts"] == {"bad_value": 1, "bad_encoding": 1}
    # A device outside the caller's scope answers as unknown.
    chenove = await make_person(system, "chenove-sup", [Role.SUPERVISOR], ["chenove"])
    r = await client.get(
        "/api/v1/ingest/rejections", params={"asset_id": a}, headers=chenove.headers
    )
    assert r.status_code == 404
