"""The registry of event kinds: every hub event is in it, once, and what reads it (the relay,
the console's stream, the console's generated types) agrees with it."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from beffroi.alarms.events import AlarmChanged
from beffroi.catalogue import Severity
from beffroi.console import stream
from beffroi.console.events import AssetStateChanged
from beffroi.console.states import MapState
from beffroi.core.event_kinds import kind, kind_of, named
from beffroi.core.events import DomainEvent
from beffroi.events import kinds, relay, typescript
from beffroi.telemetry.events import TelemetryUpdated

GENERATED = Path(__file__).resolve().parents[2] / "web" / "src" / "generated" / "events.ts"
AT = datetime(2026, 11, 27, 18, 30, 5, tzinfo=UTC)


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_event_of_the_code_is_registered_once() -> None:
    registered = kinds.load()
    # By the name their module gives them: @dataclass(slots=True) leaves the class it
    # replaced behind among the subclasses.
    ours = {
        c
        for c in _subclasses(DomainEvent)
        if c.__module__.startswith("beffroi.")
        and getattr(sys.modules[c.__module__], c.__qualname__, None) is c
    }
    assert ours == {k.cls for k in registered}
    assert len({k.name for k in registered}) == len(registered)
    for k in registered:
        assert kind_of(k.cls) is k
        assert named(k.name) is k


def test_an_event_must_be_a_frozen_slotted_dataclass() -> None:
    @dataclass(slots=True)
    class Loose(DomainEvent):
        n: int

    with pytest.raises(TypeError, match="frozen=True, slots=True"):
        kind("loose-test")(Loose)

    @dataclass(frozen=True, slots=True)
    class Odd(DomainEvent):
        n: int

    with pytest.raises(ValueError, match="no field m"):
        kind("odd-test", console={"m": "m"})(Odd)
    with pytest.raises(ValueError, match="already AlarmChanged"):
        kind("alarm")(Odd)
    assert named("loose-test") is None
    assert named("odd-test") is None


def test_the_stream_has_a_rule_for_every_kind_sent_to_the_console() -> None:
    sent = {k.cls for k in kinds.load() if k.console is not None}
    assert sent == set(stream.RULES)


def test_the_relay_carries_the_kinds_declared_relayed() -> None:
    assert set(relay.relayed_types()) == {k.cls for k in kinds.load() if k.relayed}
    assert TelemetryUpdated not in relay.relayed_types()  # readings stay in their process


def test_the_console_receives_what_it_always_did() -> None:
    asset = AssetStateChanged("SL-1", "talant", MapState.ALARM, Severity.MAJOR)
    assert stream.encode(asset) == {
        "kind": "asset",
        "id": "SL-1",
        "state": "alarm",
        "severity": "major",
    }
    reading = TelemetryUpdated("SL-1", AT, {"level_pct": 40.0})
    assert stream.encode(reading) == {
        "kind": "telemetry",
        "id": "SL-1",
        "ts": AT,
        "values": {"level_pct": 40.0},
    }
    alarm = AlarmChanged(4, "SL-1", "talant", "lampFailure", Severity.MINOR, "s", "raised", AT)
    assert list(stream.encode(alarm)) == [
        "kind",
        "alarm_id",
        "asset_id",
        "commune",
        "alarm_type",
        "severity",
        "state",
        "action",
        "at",
        "parent_id",
    ]


def test_the_committed_typescript_is_up_to_date() -> None:
    assert GENERATED.read_text() == typescript.render(), (
        "web/src/generated/events.ts is out of date: "
        "python -m beffroi.events.typescript > web/src/generated/events.ts"
    )


def test_python_types_read_as_typescript() -> None:
    assert typescript.typescript(str | None) == "string | null"
    assert typescript.typescript(Severity) == '"critical" | "major" | "minor" | "warning"'
    assert typescript.typescript(dict[str, float | int]) == "Record<string, number>"
    with pytest.raises(TypeError):
        typescript.typescript(bytes)
