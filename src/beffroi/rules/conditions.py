"""The conditions of monitoring rules, as pure functions of a state and a reading.

Each kind of rule steps from the state it left on an asset (``None``: nothing to
remember) with one new reading, and says whether that raises or clears the alarm. No
I/O here: the engine loads and saves the states, the alarm area applies the signals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from beffroi.core.sun import SunCalendar


class RuleKind(StrEnum):
    """The kinds of monitoring rule."""

    THRESHOLD = "threshold"
    NO_DATA = "no_data"
    STATE_MISMATCH = "state_mismatch"
    RATE_OF_CHANGE = "rate_of_change"
    LIGHTING_DRIFT = "lighting_drift"


# Kinds judged on a clock only (:mod:`beffroi.rules.jobs`), never on ingest: what they
# compare with moves with time (a lighting program), not with the readings.
JOB_ONLY = frozenset({RuleKind.LIGHTING_DRIFT})


class RuleError(Exception):
    """A rule cannot be evaluated on what it was given (its rule gets disabled)."""


@dataclass(frozen=True, slots=True)
class State:
    """What a rule remembers of one asset between readings."""

    since: datetime | None = None
    last_value: float | None = None
    last_ts: datetime | None = None
    active: bool = False


@dataclass(frozen=True, slots=True)
class Reading:
    """The newest value of the rule's key on one asset: numeric or text."""

    ts: datetime
    value: float | None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The state to keep (``None``: forget it) and the alarm change, if any."""

    state: State | None
    change: bool | None = None  # True raise, False clear
    detail: dict[str, Any] = field(default_factory=dict)


class Condition(Protocol):
    """One kind of rule, with its parameters."""

    @property
    def key(self) -> str | None:
        """The telemetry key it watches (``None``: any key)."""
        ...

    def step(self, state: State | None, reading: Reading, now: datetime) -> Outcome:
        """The outcome of one new reading."""
        ...


def _number(key: str, reading: Reading) -> float:
    if reading.value is None:
        raise RuleError(f"{key} arrived as text ({reading.text!r}); this rule needs a number")
    return reading.value


def _late(state: State | None, reading: Reading) -> bool:
    """A reading not newer than the last one evaluated (arrived late through another
    gateway, or redelivered) changes nothing."""
    return state is not None and state.last_ts is not None and reading.ts <= state.last_ts


def _held(
    state: State | None, holds: bool, ts: datetime, value: float | None, for_s: float
) -> tuple[State | None, bool]:
    """Minimum duration: the state after a reading of an inactive rule, and whether the
    condition has now held long enough to raise."""
    if not holds:
        return None, False
    since = state.since if state is not None and state.since is not None else ts
    raised = (ts - since).total_seconds() >= for_s
    return State(since, value, ts, raised), raised


@dataclass(frozen=True, slots=True)
class Threshold:
    """``key op value`` for at least ``for_s`` seconds raises; crossing back past
    ``clear_value`` (on the safe side of ``value``) clears. Between the two nothing
    changes, so a value hovering around ``value`` raises once and clears once."""

    key: str
    op: str
    value: float
    clear_value: float
    for_s: float = 0.0

    def breached(self, x: float) -> bool:
        """Whether ``x`` is beyond the threshold."""
        return x > self.value if self.op == ">" else x < self.value

    def safe(self, x: float) -> bool:
        """Whether ``x`` is back past the clearing value."""
        return x <= self.clear_value if self.op == ">" else x >= self.clear_value

    def step(self, state: State | None, reading: Reading, now: datetime) -> Outcome:
        """Raise after the minimum duration; clear past ``clear_value``."""
        if _late(state, reading):
            return Outcome(state)
        x = _number(self.key, reading)
        detail = {"key": self.key, "value": x, "op": self.op, "threshold": self.value}
        if state is not None and state.active:
            if self.safe(x):
                return Outcome(None, False, {**detail, "clear_value": self.clear_value})
            return Outcome(replace(state, last_value=x, last_ts=reading.ts))
        new, raised = _held(state, self.breached(x), reading.ts, x, self.for_s)
        if raised:
            return Outcome(new, True, {**detail, "for_s": self.for_s})
        return Outcome(new)


@dataclass(frozen=True, slots=True)
class NoData:
    """No reading of ``key`` (any key when ``None``) for ``minutes``. Raised by the
    periodic job (:mod:`beffroi.rules.jobs`); a fresh reading clears it here."""

    key: str | None
    minutes: float

    def step(self, state: State | None, reading: Reading, now: datetime) -> Outcome:
        """Clear an active silence when a reading younger than the limit arrives."""
        if state is None or not state.active:
            return Outcome(state)
        if now - reading.ts >= timedelta(minutes=self.minutes):
            return Outcome(state)  # an old reading, delivered late: still silent since
        return Outcome(None, False, {"key": self.key, "last_ts": reading.ts.isoformat()})


_COMPARE = {
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


@dataclass(frozen=True, slots=True)
class StateMismatch:
    """The asset is in a wrong state (``key op value``) during daylight or night, judged
    by the city's astronomical clock; ``margin_min`` around sunrise and sunset is not
    judged (lights switch on a photocell, not to the second)."""

    key: str
    op: str
    value: float | str
    when: str
    sun: SunCalendar
    margin_min: float = 0.0
    for_s: float = 0.0

    def in_window(self, moment: datetime) -> bool:
        """Whether ``moment`` is well inside daylight (or night), margins excluded."""
        today = self.sun.day(self.sun.local(moment).date())
        margin = timedelta(minutes=self.margin_min)
        if self.when == "daylight":
            return today.sunrise + margin <= moment < today.sunset - margin
        return moment < today.sunrise - margin or moment >= today.sunset + margin

    def wrong(self, reading: Reading) -> bool:
        """Whether the reading shows the wrong state."""
        if isinstance(self.value, str):
            if reading.text is None:
                raise RuleError(f"{self.key} arrived as a number; this rule compares text")
            return bool(_COMPARE[self.op](reading.text, self.value))
        return bool(_COMPARE[self.op](_number(self.key, reading), self.value))

    def step(self, state: State | None, reading: Reading, now: datetime) -> Outcome:
        """Raise once the mismatch held ``for_s``; clear when it no longer holds."""
        if _late(state, reading):
            return Outcome(state)
        holds = self.wrong(reading) and self.in_window(reading.ts)
        shown = reading.value if reading.value is not None else reading.text
        detail = {"key": self.key, "value": shown, "op": self.op, "expected_not": self.value}
        detail["when"] = self.when
        if state is not None and state.active:
            if not holds:
                return Outcome(None, False, detail)
            return Outcome(replace(state, last_ts=reading.ts, last_value=reading.value))
        new, raised = _held(state, holds, reading.ts, reading.value, self.for_s)
        if raised:
            return Outcome(new, True, detail)
        return Outcome(new)


@dataclass(frozen=True, slots=True)
class RateOfChange:
    """The value moved by more than ``max_delta`` per ``per_s`` seconds between two
    consecutive readings; a later change within the limit clears."""

    key: str
    max_delta: float
    per_s: float

    def step(self, state: State | None, reading: Reading, now: datetime) -> Outcome:
        """Compare with the previous reading, and remember this one."""
        if _late(state, reading):
            return Outcome(state)
        x = _number(self.key, reading)
        if state is None or state.last_ts is None or state.last_value is None:
            return Outcome(State(None, x, reading.ts, False))
        seconds = (reading.ts - state.last_ts).total_seconds()
        rate = abs(x - state.last_value) / seconds * self.per_s
        exceeded = rate > self.max_delta
        new = State(None, x, reading.ts, exceeded)
        detail = {
            "key": self.key,
            "value": x,
            "previous": state.last_value,
            "seconds": seconds,
            "rate": round(rate, 6),
            "max_delta": self.max_delta,
            "per_s": self.per_s,
        }
        if exceeded and not state.active:
            return Outcome(new, True, detail)
        if state.active and not exceeded:
            return Outcome(new, False, detail)
        return Outcome(new)


@dataclass(frozen=True, slots=True)
class LightingDrift:
    """A light's reported ``key`` differs from the level its program (and overrides) ask
    for by more than ``tolerance_pct`` for at least ``delay_s`` seconds; back within the
    tolerance clears. The expected level comes from the lighting area, through the job
    (:func:`beffroi.rules.jobs.lighting_drift`): rules know nothing of programs."""

    key: str
    tolerance_pct: float
    delay_s: float

    def judge(
        self, state: State | None, reading: Reading | None, expected: float | None, now: datetime
    ) -> Outcome:
        """The outcome at ``now`` of the newest reading against the level expected now
        (``None``: nothing known, so nothing judged: an active drift clears)."""
        value = _number(self.key, reading) if reading is not None else None
        holds = (
            value is not None
            and expected is not None
            and abs(value - expected) > self.tolerance_pct
        )
        detail = {
            "key": self.key,
            "value": value,
            "expected": None if expected is None else round(expected, 2),
            "tolerance_pct": self.tolerance_pct,
        }
        ts = reading.ts if reading is not None else None
        if state is not None and state.active:
            if not holds:
                return Outcome(None, False, detail)
            return Outcome(replace(state, last_value=value, last_ts=ts))
        if not holds:
            return Outcome(None)
        # Measured on the job's clock: the drift began when a run first saw it.
        since = state.since if state is not None and state.since is not None else now
        raised = (now - since).total_seconds() >= self.delay_s
        new = State(since, value, ts, raised)
        return Outcome(new, True, {**detail, "delay_s": self.delay_s}) if raised else Outcome(new)

    def step(self, state: State | None, reading: Reading, now: datetime) -> Outcome:
        """Nothing on ingest (see :data:`JOB_ONLY`): the job judges."""
        return Outcome(state)


def build(kind: str, params: Mapping[str, Any], sun: SunCalendar | None) -> Condition:
    """The condition of a stored rule (its params already validated).

    Raises :class:`RuleError` when they cannot make one (a row edited by hand, say).
    """
    try:
        if kind == RuleKind.THRESHOLD:
            return Threshold(
                params["key"],
                params["op"],
                float(params["value"]),
                float(params["clear_value"]),
                float(params.get("for_s", 0)),
            )
        if kind == RuleKind.NO_DATA:
            return NoData(params.get("key"), float(params["minutes"]))
        if kind == RuleKind.STATE_MISMATCH:
            if sun is None:
                raise RuleError("no astronomical clock: the city has no communes")
            value = params["value"]
            return StateMismatch(
                params["key"],
                params["op"],
                value if isinstance(value, str) else float(value),
                params["when"],
                sun,
                float(params.get("margin_min", 0)),
                float(params.get("for_s", 0)),
            )
        if kind == RuleKind.RATE_OF_CHANGE:
            return RateOfChange(
                params["key"], float(params["max_delta"]), float(params.get("per_s", 1))
            )
        if kind == RuleKind.LIGHTING_DRIFT:
            return LightingDrift(
                params.get("key", "level_pct"),
                float(params["tolerance_pct"]),
                float(params.get("delay_s", 0)),
            )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise RuleError(f"bad parameters for a {kind} rule: {exc!r}") from exc
    raise RuleError(f"unknown rule kind {kind!r}")
