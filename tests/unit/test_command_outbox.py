"""How a dispatch round's commands leave: one message each, or one bulk message per
field gateway that speaks the bulk form, for two or more of its children alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import orjson

from beffroi.commands.outbox import plan
from beffroi.devices.topics import BULK_MAX

ROOT = "beffroi/v1"
EXPIRES = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    id: str
    asset_id: str
    name: str = "dim"
    params: dict[str, Any] = field(default_factory=lambda: {"level_pct": 30})
    expires_at: datetime = EXPIRES


def ids() -> Any:
    numbers = count(1)
    return lambda: f"m{next(numbers)}"


def test_alike_commands_for_a_bulk_gateways_children_go_in_one_message() -> None:
    rows = [Row("c1", "SL-1"), Row("c2", "SL-2"), Row("c3", "SL-3")]
    routes = {"SL-1": "LC-1", "SL-2": "LC-1", "SL-3": "LC-1"}
    [message] = plan(rows, routes, {"LC-1": 1}, root=ROOT, message_id=ids())
    assert message.topic == f"{ROOT}/gateways/LC-1/commands/m1"
    assert message.message_id == "m1"
    assert message.command_ids == ("c1", "c2", "c3")
    assert orjson.loads(message.payload) == {
        "name": "dim",
        "params": {"level_pct": 30},
        "expires_at": EXPIRES.isoformat(),
        "commands": {"SL-1": "c1", "SL-2": "c2", "SL-3": "c3"},
    }


def test_the_per_device_topics_otherwise() -> None:
    rows = [
        Row("c1", "SL-1"),  # alone of its kind at its bulk gateway
        Row("c2", "SL-2", params={"level_pct": 80}),
        Row("c3", "SL-3"),  # its gateway does not speak the bulk form
        Row("c4", "SL-4"),
        Row("c5", "TC-1", name="plan"),  # straight to the device
        Row("c6", "SL-5"),  # its gateway speaks a version the hub does not
        Row("c7", "SL-6"),
    ]
    routes = {
        "SL-1": "LC-1",
        "SL-2": "LC-1",
        "SL-3": "LC-2",
        "SL-4": "LC-2",
        "TC-1": None,
        "SL-5": "LC-3",
        "SL-6": "LC-3",
    }
    out = plan(rows, routes, {"LC-1": 1, "LC-3": 99}, root=ROOT, message_id=ids())
    assert all(m.message_id is None for m in out)
    assert sorted(m.topic for m in out) == sorted(
        [
            f"{ROOT}/gateways/LC-1/devices/SL-1/commands/c1",
            f"{ROOT}/gateways/LC-1/devices/SL-2/commands/c2",
            f"{ROOT}/gateways/LC-2/devices/SL-3/commands/c3",
            f"{ROOT}/gateways/LC-2/devices/SL-4/commands/c4",
            f"{ROOT}/devices/TC-1/commands/c5",
            f"{ROOT}/gateways/LC-3/devices/SL-5/commands/c6",
            f"{ROOT}/gateways/LC-3/devices/SL-6/commands/c7",
        ]
    )
    assert orjson.loads(out[0].payload) == {
        "name": "dim",
        "params": {"level_pct": 30},
        "expires_at": EXPIRES.isoformat(),
    }


def test_a_device_with_two_commands_in_a_round_gets_them_in_order_one_by_one() -> None:
    later = EXPIRES + timedelta(minutes=1)
    rows = [
        Row("c1", "SL-1"),
        Row("c2", "SL-2"),
        Row("c3", "SL-1", params={"level_pct": 10}, expires_at=later),
        Row("c4", "SL-3"),
    ]
    routes = dict.fromkeys(["SL-1", "SL-2", "SL-3"], "LC-1")
    out = plan(rows, routes, {"LC-1": 1}, root=ROOT, message_id=ids())
    singles = [m.command_ids for m in out if m.message_id is None]
    assert singles == [("c1",), ("c3",)]
    assert [m.command_ids for m in out if m.message_id] == [("c2", "c4")]


def test_a_message_carries_at_most_bulk_max_children() -> None:
    n = BULK_MAX * 2 + 1
    rows = [Row(f"c{i}", f"SL-{i}") for i in range(n)]
    routes = {r.asset_id: "LC-1" for r in rows}
    out = plan(rows, routes, {"LC-1": 1}, root=ROOT, message_id=ids())
    assert [len(m.command_ids) for m in out] == [BULK_MAX, BULK_MAX, 1]
    assert len({m.message_id for m in out}) == 3
    sent = [c for m in out for c in m.command_ids]
    assert sorted(sent) == sorted(r.id for r in rows)
