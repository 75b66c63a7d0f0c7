"""Decoding device messages: the contract, the catalogue, and garbage of every kind."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beffroi.catalogue import CATALOGUE
from beffroi.telemetry.decode import (
    DeviceInfo,
    Event,
    Readings,
    Reason,
    Rejection,
    Reply,
    Status,
    decode,
)

NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
ROOT = "beffroi/v1"
DIRECTORY = {
    "SL-1": DeviceInfo(CATALOGUE["streetlight"], "LC-1", "talant"),
    "SL-2": DeviceInfo(CATALOGUE["streetlight"], None, "talant"),
    "LC-1": DeviceInfo(CATALOGUE["lighting_cabinet"], None, "talant"),
    "TC-1": DeviceInfo(CATALOGUE["traffic_controller"], None, "dijon"),
}


def run(topic: str, payload: Any) -> Any:
    """Decode ``payload`` (JSON-encoded unless bytes) on ``topic``."""
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return decode(f"{ROOT}/{topic}", raw, DIRECTORY, received_at=NOW, root=ROOT)


def test_telemetry_forms() -> None:
    one = run(
        "devices/SL-1/telemetry",
        {"ts": "2026-11-26T18:59:00+01:00", "values": {"power_w": 41.5, "level_pct": 70}},
    )
    assert isinstance(one, Readings)
    assert one.points == (
        ("power_w", datetime(2026, 11, 26, 17, 59, tzinfo=UTC), 41.5, None),
        ("level_pct", datetime(2026, 11, 26, 17, 59, tzinfo=UTC), 70.0, None),
    )
    epoch = int(NOW.timestamp() * 1000) - 1000
    many = run(
        "devices/SL-1/telemetry",
        [{"ts": epoch, "values": {"power_w": 1}}, {"ts": epoch + 10, "values": {"power_w": 2}}],
    )
    assert isinstance(many, Readings)
    assert len(many.points) == 2
    bare = run("devices/SL-1/telemetry", {"level_pct": 50})
    assert isinstance(bare, Readings)
    assert bare.points == (("level_pct", NOW, 50.0, None),)


def test_value_kinds_and_indexed_keys() -> None:
    out = run(
        "devices/TC-1/telemetry",
        {"values": {"mode": "yellow_flash", "plan": 3, "detector_12_count": 40}},
    )
    assert isinstance(out, Readings)
    assert ("mode", NOW, None, "yellow_flash") in out.points
    assert ("detector_12_count", NOW, 40.0, None) in out.points
    cabinet = run("devices/LC-1/telemetry", {"values": {"door_open": True, "circuit_3_on": False}})
    assert isinstance(cabinet, Readings)
    assert ("door_open", NOW, 1.0, None) in cabinet.points


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("devices/SL-1/telemetree", {"level_pct": 1}, Reason.BAD_TOPIC),
        ("devices/SL 1/telemetry", {"level_pct": 1}, Reason.BAD_TOPIC),
        ("devices/SL-1/commands/c1", {}, Reason.BAD_TOPIC),
        ("devices/NOPE/telemetry", {"level_pct": 1}, Reason.UNKNOWN_DEVICE),
        ("gateways/LC-1/devices/SL-2/telemetry", {"level_pct": 1}, Reason.NOT_A_CHILD),
        ("devices/SL-1/telemetry", b"\xff\xfe", Reason.BAD_ENCODING),
        ("devices/SL-1/telemetry", b"{not json", Reason.BAD_JSON),
        ("devices/SL-1/telemetry", b"[" * 5000 + b"]" * 5000, Reason.BAD_JSON),
        ("devices/SL-1/telemetry", 42, Reason.BAD_PAYLOAD),
        ("devices/SL-1/telemetry", {"values": {}}, Reason.BAD_PAYLOAD),
        ("devices/SL-1/telemetry", {"brightness": 3}, Reason.UNKNOWN_KEY),
        ("devices/SL-1/telemetry", {"level_pct": "high"}, Reason.BAD_VALUE),
        ("devices/SL-1/telemetry", {"level_pct": True}, Reason.BAD_VALUE),
        ("devices/SL-1/telemetry", {"level_pct": 101}, Reason.OUT_OF_RANGE),
        ("devices/TC-1/telemetry", {"plan": 2.5}, Reason.BAD_VALUE),
        ("devices/TC-1/telemetry", {"mode": "disco"}, Reason.BAD_VALUE),
        ("devices/TC-1/telemetry", {"detector_999_count": 1}, Reason.UNKNOWN_KEY),
        (
            "devices/SL-1/telemetry",
            {"ts": "2026-11-26T18:00:00", "values": {"level_pct": 1}},
            Reason.BAD_TIMESTAMP,
        ),
        (
            "devices/SL-1/telemetry",
            {"ts": "2030-01-01T00:00:00Z", "values": {"level_pct": 1}},
            Reason.BAD_TIMESTAMP,
        ),
        (
            "devices/SL-1/telemetry",
            {"ts": "2001-01-01T00:00:00Z", "values": {"level_pct": 1}},
            Reason.BAD_TIMESTAMP,
        ),
        ("devices/SL-1/telemetry", {"ts": 1e300, "values": {"level_pct": 1}}, Reason.BAD_TIMESTAMP),
        ("devices/SL-1/events", {"code": "alienInvasion", "active": True}, Reason.UNKNOWN_CODE),
        ("devices/SL-1/events", {"code": "lampFailure", "active": "yes"}, Reason.BAD_PAYLOAD),
        ("devices/SL-1/status", {"online": "yes"}, Reason.BAD_PAYLOAD),
        ("devices/SL-1/commands/c1/reply", {"status": "done"}, Reason.BAD_PAYLOAD),
        ("devices/SL-1/commands/c1/reply", {"status": ["succeeded"]}, Reason.BAD_PAYLOAD),
    ],
)
def test_rejections_name_their_reason(topic: str, payload: Any, reason: Reason) -> None:
    out = run(topic, payload)
    assert isinstance(out, Rejection), out
    assert out.reason is reason, out.detail


def test_nul_in_text_is_rejected_before_it_reaches_the_database() -> None:
    out = run("devices/TC-1/telemetry", {"mode": "normal\u0000"})
    assert isinstance(out, Rejection)


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1E400"])
@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("devices/SL-1/telemetry", b'{"level_pct": %s}'),
        ("devices/SL-1/telemetry", b'{"ts": %s, "values": {"level_pct": 1}}'),
        ("gateways/LC-1/devices/SL-1/telemetry", b'[{"values": {"power_w": %s}}]'),
        ("devices/SL-1/events", b'{"code": "lampFailure", "active": true, "detail": {"a": %s}}'),
        ("devices/SL-1/status", b'{"online": true, "uptime_s": %s}'),
        ("devices/SL-1/commands/c-1/reply", b'{"status": "failed", "detail": {"a": [%s]}}'),
    ],
)
def test_non_finite_numbers_are_rejected_on_every_channel(
    topic: str, payload: bytes, number: bytes
) -> None:
    # Python's json would read these as floats no JSON writer may emit (and NaN passes any
    # range check); the device contract's decoder refuses the whole message.
    out = run(topic, payload % number)
    assert isinstance(out, Rejection), out
    assert out.reason is Reason.BAD_JSON, out.detail


def test_events_status_replies() -> None:
    event = run(
        "gateways/LC-1/devices/SL-1/events",
        {"ts": NOW.isoformat(), "code": "lampFailure", "active": True, "detail": {"x": 1}},
    )
    assert event == Event("SL-1", NOW, "lampFailure", True, {"x": 1}, "LC-1")
    assert run("devices/SL-1/status", {"online": False}) == Status("SL-1", False, None, NOW)
    reply = run("devices/SL-1/commands/c-42/reply", {"status": "succeeded"})
    assert reply == Reply("SL-1", "c-42", "succeeded", {}, NOW)


def test_a_controller_reports_a_fault_by_its_rsmp_code() -> None:
    event = run("devices/TC-1/events", {"code": "A0201", "active": True, "detail": {"sg": 3}})
    assert event == Event(
        "TC-1", NOW, "signalLampFault", True, {"sg": 3, "reported_code": "A0201"}, None
    )
    unknown = run("devices/TC-1/events", {"code": "A9999", "active": True})
    assert "no fault code 'A9999'" in str(unknown)
    # An alias is the controller's: a streetlight has no RSMP codes.
    assert "no fault code 'A0201'" in str(run("devices/SL-1/events", {"code": "A0201"}))


def _dumps(value: Any) -> bytes:
    # The standard library writes what orjson refuses: huge integers, NaN, Infinity.
    return json.dumps(value).encode()


JSON = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)
KEYS = st.sampled_from(
    ["level_pct", "power_w", "mode", "plan", "ts", "values", "x", "detector_1_count"]
)
TOPICS = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda device, channel: f"{ROOT}/devices/{device}/{channel}",
        st.sampled_from(["SL-1", "TC-1", "LC-1", "NOPE", "", "+", "#"]),
        st.sampled_from(["telemetry", "events", "status", "commands/c/reply", "x"]),
    ),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    topic=TOPICS,
    payload=st.one_of(
        st.binary(max_size=300),
        JSON.map(_dumps),
        st.dictionaries(KEYS, JSON, max_size=5).map(_dumps),
        st.builds(
            lambda v: _dumps({"ts": NOW.isoformat(), "values": v}),
            st.dictionaries(KEYS, JSON, max_size=4),
        ),
    ),
)
def test_any_message_is_decoded_or_rejected_never_raises(topic: str, payload: bytes) -> None:
    out = decode(topic, payload, DIRECTORY, received_at=NOW, root=ROOT)
    assert isinstance(out, Readings | Event | Status | Reply | Rejection)
    if isinstance(out, Readings):
        for _key, ts, value, text in out.points:
            assert ts <= NOW + timedelta(minutes=5)
            assert (value is None) != (text is None)


def test_huge_payload_is_rejected_cheaply() -> None:
    out = run("devices/SL-1/telemetry", b"[" + b"1," * 200_000 + b"1]")
    assert isinstance(out, Rejection)
    assert out.reason is Reason.TOO_LARGE
