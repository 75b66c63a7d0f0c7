"""Lighting calendars: which program runs on which lighting day.

A calendar is an ordered list of rules, each naming a program, and a default program.
For a lighting day (its date is the date of its evening: see
:mod:`beffroi.lighting.clock`), **the first rule that matches wins**, as in TALQ's
calendars; when none does, the default runs. So a calendar lists its exceptions first
(Christmas Eve, the 14th of July) and its habits last (weekends, winter).

Rules match on:

- ``dates``: given dates (``annual``: the same day every year);
- ``weekdays``: days of the week;
- ``period``: from ``start`` to ``end`` inclusive (``annual``: every year, and a period
  may then run across the new year, from 1 December to 6 January);
- ``holidays``: French public holidays, by key (``christmas_day``) or ``any``.

Pure: the holidays come from the ``holidays`` library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any

import holidays
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from beffroi.core.errors import InvalidInput
from beffroi.lighting.program import field_errors

MAX_RULES = 100
MAX_VALUES = 366
ANY_HOLIDAY = "any"

# Our keys for the French public holidays, and their names in the library (English), so
# that a library renaming one is caught by the tests rather than matching nothing.
HOLIDAYS: dict[str, str] = {
    "new_years_day": "New Year's Day",
    "easter_monday": "Easter Monday",
    "labour_day": "Labor Day",
    "victory_day": "Victory Day",
    "ascension_day": "Ascension Day",
    "whit_monday": "Pentecost Monday",
    "national_day": "National Day",
    "assumption_day": "Assumption Day",
    "all_saints_day": "All Saints' Day",
    "armistice_day": "Armistice Day",
    "christmas_day": "Christmas Day",
}


@lru_cache(maxsize=64)
def holidays_of(year: int) -> dict[date, frozenset[str]]:
    """The French public holidays of ``year``: date -> our keys for it."""
    keys = {name: key for key, name in HOLIDAYS.items()}
    out: dict[date, set[str]] = {}
    table = holidays.country_holidays("FR", years=year, language="en_US")
    for day, names in table.items():
        for name in str(names).split("; "):
            if name in keys:
                out.setdefault(day, set()).add(keys[name])
    return {day: frozenset(found) for day, found in out.items()}


def holiday_dates(keys: list[str], year: int) -> list[date]:
    """The dates in ``year`` of the holidays named by ``keys`` (``any``: all of them)."""
    wanted = set(HOLIDAYS) if ANY_HOLIDAY in keys else set(keys)
    return sorted(day for day, found in holidays_of(year).items() if found & wanted)


class CalendarRuleKind(StrEnum):
    """What a calendar rule matches on."""

    DATES = "dates"
    WEEKDAYS = "weekdays"
    PERIOD = "period"
    HOLIDAYS = "holidays"


class Weekday(StrEnum):
    """Days of the week, Monday first (ISO 8601)."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


WEEKDAYS = list(Weekday)
# Which fields each kind of rule takes; the others must be left out.
_FIELDS: dict[CalendarRuleKind, frozenset[str]] = {
    CalendarRuleKind.DATES: frozenset({"dates", "annual"}),
    CalendarRuleKind.WEEKDAYS: frozenset({"weekdays"}),
    CalendarRuleKind.PERIOD: frozenset({"start", "end", "annual"}),
    CalendarRuleKind.HOLIDAYS: frozenset({"holidays"}),
}


class CalendarRule(BaseModel):
    """One rule of a calendar: when it matches, and the program it runs then."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: CalendarRuleKind
    program_id: int = Field(ge=1, description="The program run on the days this rule matches")
    label: str = Field(default="", max_length=200)
    # Before the fields it qualifies, so that their validators see it.
    annual: bool = Field(default=False, description="dates and period: every year")
    dates: list[date] | None = Field(default=None, max_length=MAX_VALUES, validate_default=True)
    weekdays: list[Weekday] | None = Field(default=None, max_length=7, validate_default=True)
    start: date | None = Field(default=None, validate_default=True)
    end: date | None = Field(default=None, validate_default=True)
    holidays: list[str] | None = Field(
        default=None,
        max_length=len(HOLIDAYS) + 1,
        validate_default=True,
        description=f"Keys of French public holidays, or '{ANY_HOLIDAY}': " + ", ".join(HOLIDAYS),
    )

    @field_validator("dates", "weekdays", "start", "holidays")
    @classmethod
    def _required(cls, value: Any, info: ValidationInfo) -> Any:
        kind = info.data.get("kind")
        name = info.field_name or ""
        if kind is None:
            return value
        if name in _FIELDS[kind]:
            if value is None:
                raise ValueError(f"required for a {kind.value} rule")
            if isinstance(value, list) and not value:
                raise ValueError(
                    f"a {kind.value} rule needs at least one value: it would never match"
                )
        elif value is not None:
            raise ValueError(f"not for a {kind.value} rule")
        if name == "holidays" and value:
            unknown = [v for v in value if v != ANY_HOLIDAY and v not in HOLIDAYS]
            if unknown:
                known = ", ".join([ANY_HOLIDAY, *HOLIDAYS])
                raise ValueError(f"unknown holiday {unknown[0]!r} (known: {known})")
        return value

    @field_validator("end")
    @classmethod
    def _end(cls, value: date | None, info: ValidationInfo) -> date | None:
        kind = info.data.get("kind")
        if kind is CalendarRuleKind.PERIOD:
            if value is None:
                raise ValueError("required for a period rule")
            start = info.data.get("start")
            # Not annual: a period ending before it starts never matches. Annual: it runs
            # across the new year.
            if start is not None and value < start and not info.data.get("annual", False):
                raise ValueError(f"before start ({start}); set annual for a yearly period")
        elif kind is not None and value is not None:
            raise ValueError(f"not for a {kind.value} rule")
        return value

    @field_validator("annual")
    @classmethod
    def _annual(cls, value: bool, info: ValidationInfo) -> bool:
        kind = info.data.get("kind")
        if value and kind is not None and "annual" not in _FIELDS[kind]:
            raise ValueError(f"not for a {kind.value} rule")
        return value

    def matches(self, day: date) -> bool:
        """Whether this rule matches lighting day ``day``."""
        if self.kind is CalendarRuleKind.DATES:
            assert self.dates is not None
            if self.annual:
                return any((d.month, d.day) == (day.month, day.day) for d in self.dates)
            return day in self.dates
        if self.kind is CalendarRuleKind.WEEKDAYS:
            assert self.weekdays is not None
            return WEEKDAYS[day.weekday()] in self.weekdays
        if self.kind is CalendarRuleKind.PERIOD:
            assert self.start is not None
            assert self.end is not None
            if not self.annual:
                return self.start <= day <= self.end
            key = (day.month, day.day)
            first, last = (self.start.month, self.start.day), (self.end.month, self.end.day)
            return first <= key <= last if first <= last else key >= first or key <= last
        assert self.holidays is not None
        return day in holiday_dates(self.holidays, day.year)


class CalendarSpec(BaseModel):
    """A calendar's rules, tried in order, and the program run when none matches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[CalendarRule] = Field(default_factory=list, max_length=MAX_RULES)
    default_program_id: int = Field(ge=1, description="Run when no rule matches")

    def program_ids(self) -> set[int]:
        """Every program the calendar names."""
        return {self.default_program_id, *(r.program_id for r in self.rules)}


@dataclass(frozen=True, slots=True)
class Match:
    """Which program a calendar runs on a lighting day, and why."""

    program_id: int
    rule_index: int | None  # None: no rule matched, the default runs


def match(spec: CalendarSpec, day: date) -> Match:
    """The first rule of ``spec`` matching lighting day ``day``, else the default."""
    for index, rule in enumerate(spec.rules):
        if rule.matches(day):
            return Match(rule.program_id, index)
    return Match(spec.default_program_id, None)


def parse_calendar(data: Mapping[str, Any] | CalendarSpec) -> CalendarSpec:
    """A calendar from its JSON form, or :class:`InvalidInput` naming each bad field."""
    if isinstance(data, CalendarSpec):
        return data
    try:
        return CalendarSpec.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from None
