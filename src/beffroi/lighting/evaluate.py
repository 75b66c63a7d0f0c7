"""A calendar and its programs on the clock: which program runs on a lighting day, its steps
that day, and the level asked for at any moment. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from beffroi.core.sun import SunCalendar
from beffroi.lighting.calendar import CalendarSpec, Match, match
from beffroi.lighting.clock import Resolved, level_at, lighting_day, resolve
from beffroi.lighting.program import ProgramSpec


@dataclass(frozen=True, slots=True)
class DayPlan:
    """What a calendar runs on one lighting day: the rule that matched, the program, and
    its steps placed in time (empty if the program is missing)."""

    day: date
    match: Match
    steps: tuple[Resolved, ...]


def day_plan(
    calendar: CalendarSpec, programs: Mapping[int, ProgramSpec], day: date, sun: SunCalendar
) -> DayPlan:
    """The plan of lighting day ``day``."""
    found = match(calendar, day)
    program = programs.get(found.program_id)
    steps = tuple(resolve(program, day, sun)) if program is not None else ()
    return DayPlan(day, found, steps)


def level(
    calendar: CalendarSpec,
    programs: Mapping[int, ProgramSpec],
    moment: datetime,
    sun: SunCalendar,
) -> float:
    """The level the calendar asks for at ``moment``. Until the lighting day's first step,
    the previous day's last step holds (its program may differ: Christmas Eve then an
    ordinary night); before any step at all, off."""
    day = lighting_day(moment, sun.zone)
    before = day_plan(calendar, programs, day - timedelta(days=1), sun).steps
    today = day_plan(calendar, programs, day, sun).steps
    return level_at([*before, *today], moment)
