"""Programs on the clock: a program's steps as instants of one lighting day, and the level
they ask for at any moment.

A *lighting day* runs from noon to the next noon, local time: the night of 24 to 25
December belongs to the 24th. Its date is the date of its evening.

Instants are UTC. Local times go through :mod:`zoneinfo`, so the two Sundays when the
clocks change are handled: a fixed time that does not exist (02:30 on the last Sunday of
March) runs when the clocks jump (03:00 summer time), and one that happens twice (02:30
on the last Sunday of October) runs the first time.

Pure: the sun comes from :class:`beffroi.core.sun.SunCalendar`, which computes it.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from beffroi.core.errors import FieldError, InvalidInput
from beffroi.core.sun import SunCalendar
from beffroi.lighting.program import ProgramSpec, ProgramStep, StepAnchor, StepKind

NOON = time(12)


def lighting_day(moment: datetime, zone: ZoneInfo) -> date:
    """The lighting day ``moment`` belongs to (noon to noon, local)."""
    local = moment.astimezone(zone)
    return local.date() if local.time() >= NOON else local.date() - timedelta(days=1)


def local_instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of local ``clock`` on ``day``; see the module on clock changes."""
    naive = datetime.combine(day, clock)
    first = naive.replace(tzinfo=zone).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first  # it exists (fold 0: the first of two, if it happens twice)
    # In the gap: the instant the clocks jump, between the two readings of ``naive``.
    low = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = first
    if low > high:
        low, high = high, low
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) < naive:
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)


def lighting_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a lighting day in UTC: noon to the next noon, local."""
    return local_instant(day, NOON, zone), local_instant(day + timedelta(days=1), NOON, zone)


@dataclass(frozen=True, slots=True)
class Resolved:
    """One step of a program on one lighting day."""

    index: int  # the step's place in its program
    at: datetime  # UTC
    level_pct: float
    ramp_s: int
    kind: StepKind
    presence_level_pct: float | None = None
    hold_s: int | None = None

    @property
    def ramp_end(self) -> datetime:
        """When the step's level is reached."""
        return self.at + timedelta(seconds=self.ramp_s)


def step_instant(step: ProgramStep, day: date, sun: SunCalendar) -> datetime:
    """When ``step`` starts on lighting day ``day``, in UTC."""
    if step.anchor is StepAnchor.TIME:
        assert step.at is not None  # the model requires it
        on = day if step.at >= NOON else day + timedelta(days=1)
        return local_instant(on, step.at, sun.zone)
    if step.anchor is StepAnchor.SUNSET:
        base = sun.day(day).sunset
    else:
        base = sun.day(day + timedelta(days=1)).sunrise
    return (base + timedelta(minutes=step.offset_min)).replace(microsecond=0)


def resolve(spec: ProgramSpec, day: date, sun: SunCalendar) -> list[Resolved]:
    """The program's steps on lighting day ``day``, in program order (not checked: see
    :func:`order_errors`)."""
    return [
        Resolved(
            i,
            step_instant(step, day, sun),
            step.level_pct,
            step.ramp_s,
            step.kind,
            step.presence_level_pct,
            step.hold_s,
        )
        for i, step in enumerate(spec.steps)
    ]


def order_errors(spec: ProgramSpec, day: date, sun: SunCalendar) -> list[FieldError]:
    """What is wrong with the program's timing on lighting day ``day``: a step outside the
    day, before the previous one, or starting before the previous one's ramp ends."""
    start, end = lighting_day_bounds(day, sun.zone)
    steps = resolve(spec, day, sun)
    errors: list[FieldError] = []
    zone = sun.zone
    for step in steps:
        if not start <= step.at < end:
            errors.append(
                FieldError(
                    _timing_field(spec, step.index),
                    f"on {day} it falls at {_local(step.at, zone)}, outside its lighting day "
                    "(noon to noon)",
                )
            )
    for before, after in itertools.pairwise(steps):
        if after.at <= before.at:
            errors.append(
                FieldError(
                    _timing_field(spec, after.index),
                    f"on {day} it starts at {_local(after.at, zone)}, not after step "
                    f"{before.index} ({_local(before.at, zone)}): steps must run in order",
                )
            )
        elif after.at < before.ramp_end:
            errors.append(
                FieldError(
                    f"steps.{before.index}.ramp_s",
                    f"on {day} the ramp ends at {_local(before.ramp_end, zone)}, after step "
                    f"{after.index} starts ({_local(after.at, zone)}): the steps overlap",
                )
            )
    return errors


def check_year(spec: ProgramSpec, year: int, sun: SunCalendar, prefix: str = "") -> None:
    """Refuse a program whose steps are out of order on any lighting day of ``year`` (the
    sun moves against fixed times through the seasons); the first bad day is named."""
    day = date(year, 1, 1)
    while day.year == year:
        errors = order_errors(spec, day, sun)
        if errors:
            raise InvalidInput(
                [FieldError(".".join(p for p in (prefix, e.field) if p), e.message) for e in errors]
            )
        day += timedelta(days=1)


def level_at(steps: Sequence[Resolved], moment: datetime, before: float = 0.0) -> float:
    """The level ``steps`` (in time order, ramps not overlapping the next step) ask for at
    ``moment``; ``before`` is the level before the first. Ramps are linear."""
    starts = [s.at for s in steps]
    index = bisect_right(starts, moment)
    if index == 0:
        return before
    step = steps[index - 1]
    previous = steps[index - 2].level_pct if index >= 2 else before
    if step.ramp_s == 0 or moment >= step.ramp_end:
        return step.level_pct
    done = (moment - step.at).total_seconds() / step.ramp_s
    level = previous + (step.level_pct - previous) * done
    return min(100.0, max(0.0, level))


def _timing_field(spec: ProgramSpec, index: int) -> str:
    """The field that places step ``index`` in time."""
    anchor = spec.steps[index].anchor
    return f"steps.{index}.{'at' if anchor is StepAnchor.TIME else 'offset_min'}"


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
