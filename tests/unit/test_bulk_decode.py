"""Decoding a field gateway's bulk messages: each child's entry judged on its own, the
envelope judged whole, nothing raised."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from beffroi.catalogue import CATALOGUE
from beffroi.devices.topics import BULK_MAX
from beffroi.telemetry.bulk import decode_message
from beffroi.telemetry.decode import (
    DeviceInfo,
    Event,
    Readings,
    Reason,
    Rejection,
    Reply,
    Status,
)

NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
ROOT = "beffroi/v1"
LIGHT, CABINET = CATALOGUE["streetlight"], CATALOGUE["lighting_cabinet"]
DIRECTORY = {
    "LC-1": DeviceInfo(CABINET, None, "talant"),
    "LC-2": DeviceInfo(CABINET, None, "talant"),
    "SL-1": DeviceInfo(LIGHT, "LC-1", "talant"),
    "SL-2": DeviceInfo(LIGHT, "LC-1", "talant"),
    "SL-9": DeviceInfo(LIGHT, "LC-2", "talant"),
}


def run(channel: str, body: Any, gateway: str = "LC-1") -> list[Any]:
    # The standard library writes what orjson refuses (huge integers, NaN): a device may too.
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    topic = f"{ROOT}/gateways/{gateway}/{channel}"
    return decode_message(topic, raw, DIRECTORY, received_at=NOW, root=ROOT)


def test_telemetry_of_many_children_in_one_message() -> None:
    out = run(
        "telemetry",
        {
            "SL-1": [{"ts": "2026-11-26T18:59:00+01:00", "values": {"level_pct": 40}}],
            "SL-2": {"values": {"level_pct": 70, "power_w": 30.5}},
            "LC-1": {"power_w": 1200},  # the gateway's own part, as a bare object of values
        },
    )
    assert [type(o) for o in out] == [Readings, Readings, Readings]
    assert {o.asset_id: len(o.points) for o in out} == {"SL-1": 1, "SL-2": 2, "LC-1": 1}


def test_a_bad_entry_is_rejected_alone() -> None:
    out = run(
        "telemetry",
        {
            "SL-1": {"values": {"level_pct": 140}},  # out of range
            "SL-2": {"values": {"level_pct": 70}},
            "SL-9": {"values": {"level_pct": 70}},  # another cabinet's light
            "GHOST": {"values": {"level_pct": 70}},
            "bad id!": {"values": {"level_pct": 70}},
            "LC-2": {"values": {"power_w": 1}},  # another gateway, not a child
        },
    )
    stored = [o for o in out if isinstance(o, Readings)]
    refused = {o.asset_id: o.reason for o in out if isinstance(o, Rejection)}
    assert [o.asset_id for o in stored] == ["SL-2"]
    assert refused == {
        "SL-1": Reason.OUT_OF_RANGE,
        "SL-9": Reason.NOT_A_CHILD,
        "GHOST": Reason.UNKNOWN_DEVICE,
        "bad id!": Reason.BAD_TOPIC,
        "LC-2": Reason.NOT_A_CHILD,
    }
    sample = next(o for o in out if isinstance(o, Rejection) and o.asset_id == "SL-1")
    assert orjson.loads(sample.payload) == {"values": {"level_pct": 140}}


def test_events_and_statuses() -> None:
    events = run(
        "events",
        {
            "SL-1": [
                {"code": "lampFailure", "active": True},
                {"code": "lampFailure", "active": False},
            ],
            "SL-2": {"code": "supplyLoss", "active": True},
        },
    )
    assert [(e.asset_id, e.code, e.active, e.gateway_id) for e in events] == [
        ("SL-1", "lampFailure", True, "LC-1"),
        ("SL-1", "lampFailure", False, "LC-1"),
        ("SL-2", "supplyLoss", True, "LC-1"),
    ]
    assert all(isinstance(e, Event) for e in events)
    statuses = run("status", {"SL-1": {"online": False}, "SL-2": {"online": True}})
    assert [(s.asset_id, s.online, s.via) for s in statuses] == [
        ("SL-1", False, "LC-1"),
        ("SL-2", True, "LC-1"),
    ]
    assert all(isinstance(s, Status) for s in statuses)


def test_a_broken_envelope_is_rejected_whole() -> None:
    for body, reason in [
        (b"not json", Reason.BAD_JSON),
        (b"\xff\xfe", Reason.BAD_ENCODING),
        ([{"SL-1": {}}], Reason.BAD_PAYLOAD),
        ({f"SL-{n}": {"level_pct": 1} for n in range(BULK_MAX + 1)}, Reason.TOO_LARGE),
    ]:
        [out] = run("telemetry", body)
        assert isinstance(out, Rejection)
        assert (out.reason, out.asset_id) == (reason, "LC-1")
    [unknown] = run("telemetry", {"SL-1": {"level_pct": 1}}, gateway="LC-404")
    assert isinstance(unknown, Rejection)
    assert unknown.reason is Reason.UNKNOWN_DEVICE


def test_a_gateway_announces_its_bulk_version_in_its_status() -> None:
    [status] = run("status", {"LC-1": {"online": True, "bulk": 1}})
    assert isinstance(status, Status)
    assert (status.asset_id, status.bulk, status.via) == ("LC-1", 1, None)
    [plain] = run("status", {"LC-1": {"online": True}})
    assert isinstance(plain, Status)
    assert plain.bulk is None
    for bad in ("1", True, 0, 1.5):
        [out] = run("status", {"LC-1": {"online": True, "bulk": bad}})
        assert isinstance(out, Rejection), bad
        assert "bulk must be" in out.detail


def test_a_bulk_reply_answers_for_each_command_and_refuses_bad_entries_alone() -> None:
    out = run(
        "commands/m1/reply",
        {
            "c1": {"status": "succeeded"},
            "c2": {"status": "failed", "detail": {"error": "lampFailure"}},
            "c3": {"status": "maybe"},
            "c/4": {"status": "accepted"},
        },
    )
    replies = [o for o in out if isinstance(o, Reply)]
    assert [(r.command_id, r.status, r.asset_id, r.via, r.sender) for r in replies] == [
        ("c1", "succeeded", None, "LC-1", "LC-1"),
        ("c2", "failed", None, "LC-1", "LC-1"),
    ]
    assert replies[1].detail == {"error": "lampFailure"}
    refused = [o for o in out if isinstance(o, Rejection)]
    assert [(r.reason, r.asset_id) for r in refused] == [
        (Reason.BAD_PAYLOAD, "LC-1"),
        (Reason.BAD_TOPIC, "LC-1"),
    ]
    assert "status must be one of" in refused[0].detail
    [whole] = run("commands/m1/reply", [{"c1": {"status": "succeeded"}}])
    assert isinstance(whole, Rejection)
    assert whole.reason is Reason.BAD_PAYLOAD


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(
    st.sampled_from(["telemetry", "events", "status", "commands/m1/reply", "other"]),
    st.dictionaries(st.sampled_from(["SL-1", "SL-2", "SL-9", "LC-1", "x", ""]), json_values)
    | json_values,
)
def test_nothing_raises(channel: str, body: Any) -> None:
    for out in run(channel, body):
        assert isinstance(out, Readings | Event | Status | Reply | Rejection)
