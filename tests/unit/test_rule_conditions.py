"""The pure logic of monitoring rules: hysteresis, minimum duration, the astronomical
clock, rate of change, silences, and the validation of parameters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from beffroi.catalogue import CATALOGUE
from beffroi.core.sun import SunCalendar
from beffroi.rules.conditions import (
    Condition,
    LightingDrift,
    NoData,
    RateOfChange,
    Reading,
    RuleError,
    RuleKind,
    State,
    StateMismatch,
    Threshold,
    build,
)
from beffroi.rules.params import param_errors

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
DIJON = SunCalendar(47.322, 5.041)


def run(
    condition: Condition, values: Sequence[float], step_s: float = 10.0
) -> tuple[list[bool], State | None]:
    """Feed ``values`` one reading at a time; returns the alarm changes and last state."""
    state: State | None = None
    changes: list[bool] = []
    for index, value in enumerate(values):
        ts = T0 + timedelta(seconds=index * step_s)
        outcome = condition.step(state, Reading(ts, value), ts)
        state = outcome.state
        if outcome.change is not None:
            changes.append(outcome.change)
    return changes, state


def test_flapping_around_the_threshold_raises_once_and_clears_once() -> None:
    rule = Threshold("power_w", ">", 100.0, 80.0)
    # Oscillates across 100 many times, never back to 80 until the end.
    flapping = [99, 101, 99, 102, 95, 101, 85, 100.5, 81, 120, 90]
    changes, state = run(rule, flapping)
    assert changes == [True]
    assert state is not None
    assert state.active
    changes, state = run(rule, [*flapping, 80, 99, 85, 79])
    assert changes == [True, False]
    assert state is None
    # Without the way back past clear_value, it would have cleared at every dip.
    assert run(rule, [101, 79, 101, 79])[0] == [True, False, True, False]


def test_below_threshold_with_hysteresis() -> None:
    rule = Threshold("voltage_v", "<", 200.0, 210.0)
    changes, _ = run(rule, [230, 199, 205, 201, 190, 209, 210, 199])
    assert changes == [True, False, True]


def test_minimum_duration_must_hold_without_a_break() -> None:
    rule = Threshold("power_w", ">", 100.0, 80.0, for_s=60)
    # One reading every 20 s: raised at the fourth breach (60 s after the first).
    changes, state = run(rule, [150, 150, 150], step_s=20)
    assert changes == []
    assert state is not None
    assert state.since == T0
    assert not state.active
    changes, state = run(rule, [150, 150, 150, 150], step_s=20)
    assert changes == [True]
    assert state is not None
    assert state.active
    # A reading under the threshold restarts the clock.
    changes, _ = run(rule, [150, 150, 90, 150, 150, 150], step_s=20)
    assert changes == []
    assert run(rule, [150, 150, 90, 150, 150, 150, 150], step_s=20)[0] == [True]


def test_a_late_reading_changes_nothing() -> None:
    rule = Threshold("power_w", ">", 100.0, 80.0)
    active = State(T0, 150.0, T0, True)
    late = rule.step(active, Reading(T0 - timedelta(seconds=5), 10.0), T0)
    assert late.state == active
    assert late.change is None
    fresh = rule.step(active, Reading(T0 + timedelta(seconds=5), 10.0), T0)
    assert fresh.state is None
    assert fresh.change is False


def test_a_text_value_is_the_rules_error() -> None:
    rule = Threshold("mode", ">", 1.0, 0.0)
    with pytest.raises(RuleError, match="arrived as text"):
        rule.step(None, Reading(T0, None, "manual"), T0)


def paris(day: str, hour: int, minute: int = 0) -> datetime:
    """A local time in Paris, as UTC."""
    local = datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=PARIS)
    return local.astimezone(UTC)


def lit_in_daylight(margin_min: float = 0.0) -> StateMismatch:
    return StateMismatch("level_pct", ">", 0.0, "daylight", DIJON, margin_min)


@pytest.mark.parametrize(
    ("moment", "daylight"),
    [
        # Winter solstice in Dijon: sunrise about 08:25, sunset about 16:55 (CET).
        (paris("2026-12-21", 8, 0), False),
        (paris("2026-12-21", 12, 0), True),
        (paris("2026-12-21", 17, 30), False),
        (paris("2026-12-21", 21, 0), False),
        # Summer solstice: sunrise about 05:50, sunset about 21:35 (CEST).
        (paris("2026-06-21", 5, 0), False),
        (paris("2026-06-21", 7, 0), True),
        (paris("2026-06-21", 21, 0), True),
        (paris("2026-06-21", 23, 0), False),
    ],
)
def test_lit_in_daylight_by_the_citys_clock(moment: datetime, daylight: bool) -> None:
    outcome = lit_in_daylight().step(None, Reading(moment, 100.0), moment)
    assert outcome.change is (True if daylight else None)
    # Off is never a mismatch.
    assert lit_in_daylight().step(None, Reading(moment, 0.0), moment).change is None
    lit_at_night = StateMismatch("level_pct", "==", 0.0, "night", DIJON)
    dark = lit_at_night.step(None, Reading(moment, 0.0), moment).change
    assert dark is (None if daylight else True)


def test_margin_around_sunset_and_clearing_at_night() -> None:
    sunset = DIJON.day(date(2026, 6, 21)).sunset
    before = sunset - timedelta(minutes=10)
    assert lit_in_daylight().step(None, Reading(before, 100.0), before).change is True
    assert lit_in_daylight(15).step(None, Reading(before, 100.0), before).change is None
    raised = lit_in_daylight().step(None, Reading(before, 100.0), before).state
    after = sunset + timedelta(minutes=5)
    cleared = lit_in_daylight().step(raised, Reading(after, 100.0), after)
    assert cleared.change is False
    assert cleared.state is None


def test_text_state_mismatch() -> None:
    rule = StateMismatch("position", "==", "down", "night", DIJON)
    midnight = paris("2026-12-21", 0, 30)
    assert rule.step(None, Reading(midnight, None, "down"), midnight).change is True
    assert rule.step(None, Reading(midnight, None, "up"), midnight).change is None
    with pytest.raises(RuleError):
        rule.step(None, Reading(midnight, 1.0), midnight)


def test_rate_of_change() -> None:
    rule = RateOfChange("power_w", max_delta=10.0, per_s=60.0)
    # One reading a minute: +5, +25 (too fast), +5, +5, -30 (too fast).
    changes, state = run(rule, [100, 105, 130, 135, 140, 110], step_s=60)
    assert changes == [True, False, True]
    assert state is not None
    assert state.last_value == 110
    assert state.active
    # The same change spread over more time is within the limit.
    assert run(rule, [100, 125, 150], step_s=180)[0] == []
    first = rule.step(None, Reading(T0, 100.0), T0)
    assert first.change is None
    assert first.state == State(None, 100.0, T0, False)


def test_no_data_is_cleared_by_a_fresh_reading_only() -> None:
    rule = NoData("power_w", 15)
    now = T0 + timedelta(hours=1)
    silent = State(now - timedelta(minutes=1), None, T0, True)
    stale = rule.step(silent, Reading(now - timedelta(minutes=20), 1.0), now)
    assert stale.change is None
    assert stale.state == silent
    fresh = rule.step(silent, Reading(now - timedelta(seconds=3), 1.0), now)
    assert fresh.change is False
    assert fresh.state is None
    assert rule.step(None, Reading(now, 1.0), now).change is None


def test_build_refuses_broken_parameters() -> None:
    with pytest.raises(RuleError, match="threshold"):
        build(RuleKind.THRESHOLD, {"key": "power_w", "op": ">"}, None)
    with pytest.raises(RuleError, match="astronomical"):
        build(RuleKind.STATE_MISMATCH, {"key": "x", "op": ">", "value": 0, "when": "night"}, None)
    rule = build(RuleKind.RATE_OF_CHANGE, {"key": "power_w", "max_delta": 5, "per_s": 1}, None)
    assert rule == RateOfChange("power_w", 5.0, 1.0)


def fields(kind: RuleKind, type_key: str, params: object) -> list[str]:
    return [e.field for e in param_errors(kind, CATALOGUE[type_key], params)]


def test_parameters_are_validated_per_kind() -> None:
    good = {"key": "power_w", "op": ">", "value": 100, "clear_value": 80}
    assert fields(RuleKind.THRESHOLD, "streetlight", good) == []
    assert fields(RuleKind.THRESHOLD, "streetlight", {**good, "clear_value": 120}) == [
        "params.clear_value"
    ]
    assert fields(RuleKind.THRESHOLD, "streetlight", {**good, "op": "<"}) == ["params.clear_value"]
    assert fields(RuleKind.THRESHOLD, "streetlight", {**good, "key": "speed_kmh"}) == ["params.key"]
    assert fields(RuleKind.THRESHOLD, "streetlight", {**good, "op": "="}) == ["params.op"]
    assert fields(RuleKind.THRESHOLD, "streetlight", {"key": "power_w", "value": 1}) == [
        "params.op",
        "params.clear_value",
    ]
    assert fields(RuleKind.THRESHOLD, "streetlight", {**good, "extra": 1}) == ["params.extra"]
    text_key = {"key": "mode", "op": ">", "value": 1, "clear_value": 0}
    assert fields(RuleKind.THRESHOLD, "lighting_cabinet", text_key) == ["params.key"]
    assert (
        fields(RuleKind.THRESHOLD, "traffic_controller", {**good, "key": "detector_3_count"}) == []
    )
    template = {**good, "key": "detector_{n}_count"}
    assert fields(RuleKind.THRESHOLD, "traffic_controller", template) == ["params.key"]
    assert fields(RuleKind.NO_DATA, "streetlight", {"minutes": 15}) == []
    assert fields(RuleKind.NO_DATA, "streetlight", {"minutes": 0}) == ["params.minutes"]
    mismatch = {"key": "position", "op": "==", "value": "sideways", "when": "night"}
    assert fields(RuleKind.STATE_MISMATCH, "bollard", mismatch) == ["params.value"]
    assert fields(RuleKind.STATE_MISMATCH, "bollard", {**mismatch, "value": "down"}) == []
    assert fields(RuleKind.STATE_MISMATCH, "bollard", {**mismatch, "value": 1}) == ["params.value"]
    rate = {"key": "power_w", "max_delta": 10, "per_s": 0}
    assert fields(RuleKind.RATE_OF_CHANGE, "streetlight", rate) == ["params.per_s"]


def test_lighting_drift_raises_after_the_delay_and_clears_within_the_tolerance() -> None:
    drift = build(RuleKind.LIGHTING_DRIFT, {"tolerance_pct": 10, "delay_s": 300}, None)
    assert isinstance(drift, LightingDrift)
    assert drift.key == "level_pct"

    def at(minutes: float) -> datetime:
        return T0 + timedelta(minutes=minutes)

    # Within the tolerance: nothing to remember.
    assert drift.judge(None, Reading(at(0), 58.0), 50.0, at(0)).state is None
    # Beyond it: remembered from the first run that saw it, raised once the delay passed.
    first = drift.judge(None, Reading(at(0), 100.0), 50.0, at(0))
    assert (first.change, first.state) == (None, State(at(0), 100.0, at(0), False))
    held = drift.judge(first.state, Reading(at(4), 100.0), 50.0, at(4))
    assert held.change is None
    raised = drift.judge(held.state, Reading(at(5), 100.0), 50.0, at(5))
    assert raised.change is True
    assert raised.detail == {
        "key": "level_pct",
        "value": 100.0,
        "expected": 50.0,
        "tolerance_pct": 10.0,
        "delay_s": 300.0,
    }
    assert raised.state is not None
    assert raised.state.active
    # Still drifting: no second alarm. The program catching up clears it.
    assert drift.judge(raised.state, Reading(at(6), 100.0), 50.0, at(6)).change is None
    cleared = drift.judge(raised.state, Reading(at(6), 100.0), 95.0, at(6))
    assert (cleared.change, cleared.state) == (False, None)
    # A break before the delay starts the count again.
    broken = drift.judge(held.state, Reading(at(4), 52.0), 50.0, at(4))
    assert broken.state is None
    # Nothing expected (no calendar), or nothing reported: not judged; an active one clears.
    assert drift.judge(None, Reading(at(0), 100.0), None, at(0)).state is None
    assert drift.judge(raised.state, None, 50.0, at(7)).change is False
    with pytest.raises(RuleError):
        drift.judge(None, Reading(at(0), None, "on"), 50.0, at(0))
    # Judged by its job only: the ingest path leaves it alone.
    assert drift.step(held.state, Reading(at(9), 0.0), at(9)).state == held.state


def test_lighting_drift_parameters() -> None:
    kind = RuleKind.LIGHTING_DRIFT
    assert fields(kind, "streetlight", {"tolerance_pct": 10, "delay_s": 600}) == []
    assert fields(kind, "streetlight", {"tolerance_pct": 150, "delay_s": 600}) == [
        "params.tolerance_pct"
    ]
    assert fields(kind, "streetlight", {"tolerance_pct": 10}) == ["params.delay_s"]
    bad_key = {"tolerance_pct": 10, "delay_s": 0, "key": "colour"}
    assert fields(kind, "streetlight", bad_key) == ["params.key"]
    assert fields(kind, "lighting_cabinet", {"tolerance_pct": 10, "delay_s": 0}) == ["asset_type"]
