"""What a cabinet's controller does with the schedule it was delivered: read the document
back, and run it — the level at any moment, and when that level may next change. Pure.

The hub's own evaluator (:mod:`beffroi.lighting.evaluate`, the one "why" uses) does the
work, so the simulated controllers and the hub cannot disagree. Holiday rules come with
their dates (``dates``, up to ``holidays_until``): the controller matches those dates,
not holiday keys it could not work out in the field. Overrides (``overrides``) win over
the calendar from their start to their end, on their lights or the whole cabinet; of
several at once the last listed wins; past its end an override no longer counts, with no
word from the hub.
"""

from __future__ import annotations

import functools
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from beffroi.core.errors import FieldError, InvalidInput
from beffroi.core.sun import SunCalendar
from beffroi.lighting.calendar import CalendarRuleKind, CalendarSpec, parse_calendar
from beffroi.lighting.clock import Resolved, level_at, lighting_day, lighting_day_bounds
from beffroi.lighting.evaluate import day_plan
from beffroi.lighting.program import ProgramSpec, parse_program
from beffroi.lighting.schedule import FORMAT

_CACHE_DAYS: Final = 8  # a controller looks at yesterday, today and tomorrow


@dataclass(frozen=True, slots=True)
class DeliveredOverride:
    """An override as delivered: ``level_pct`` from ``starts_at`` to ``ends_at`` on
    ``lights`` (``None``: every light of the cabinet)."""

    id: int
    starts_at: datetime
    ends_at: datetime
    level_pct: float
    lights: frozenset[str] | None

    def covers(self, light_id: str | None, moment: datetime) -> bool:
        """Whether it applies to ``light_id`` (``None``: the cabinet as a whole) now."""
        if not self.starts_at <= moment < self.ends_at:
            return False
        return self.lights is None or (light_id is not None and light_id in self.lights)


@dataclass(frozen=True, slots=True)
class DeliveredSchedule:
    """A schedule document read back: its version, calendar (None: none applies, the
    controller keeps its own astronomical clock), programs, and the sun at its place."""

    cabinet_id: str
    version: int
    calendar: CalendarSpec | None
    programs: dict[int, ProgramSpec]
    sun: SunCalendar
    overrides: tuple[DeliveredOverride, ...] = ()


def _override(raw: Mapping[str, Any]) -> DeliveredOverride:
    lights = raw.get("lights")
    return DeliveredOverride(
        int(raw["id"]),
        datetime.fromisoformat(raw["starts_at"]),
        datetime.fromisoformat(raw["ends_at"]),
        float(raw["level_pct"]),
        None if lights is None else frozenset(str(x) for x in lights),
    )


def _rule(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A delivered rule as the calendar model takes it: a holiday rule becomes the dates
    it carries."""
    if raw.get("kind") == CalendarRuleKind.HOLIDAYS.value:
        return {"kind": "dates", "program_id": raw.get("program_id"), "dates": raw.get("dates")}
    return dict(raw)


def read_schedule(document: Mapping[str, Any]) -> DeliveredSchedule:
    """A delivered schedule document, or :class:`InvalidInput` naming what is wrong.
    Fields a newer hub adds and this controller does not know are left aside."""
    try:
        version = document["version"]
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InvalidInput(FieldError("version", "a positive integer"))
        if document.get("format") != FORMAT:
            raise InvalidInput(FieldError("format", f"this controller reads format {FORMAT}"))
        position = document["position"]
        sun = SunCalendar(float(position["lat"]), float(position["lon"]), document["timezone"])
        raw = document.get("calendar")
        calendar = None
        programs: dict[int, ProgramSpec] = {}
        if raw is not None:
            calendar = parse_calendar(
                {
                    "rules": [_rule(r) for r in raw["rules"]],
                    "default_program_id": raw["default_program_id"],
                }
            )
            programs = {int(k): parse_program(v) for k, v in document["programs"].items()}
        overrides = tuple(_override(o) for o in document.get("overrides") or ())
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput(FieldError("document", f"not a schedule document: {exc}")) from None
    return DeliveredSchedule(
        str(document.get("cabinet_id", "")), version, calendar, programs, sun, overrides
    )


class RunningSchedule:
    """A delivered schedule on the controller's clock. Each lighting day is worked out
    once (the steps of it and of the day before); the level is then a binary search, and
    the span of time it holds (between two step edges, outside ramps) is remembered, so
    the lights of a cabinet asking again and again mostly get it from that span: cheap
    enough for every light of every cabinet at every report."""

    def __init__(self, schedule: DeliveredSchedule) -> None:
        self.schedule = schedule
        self.version = schedule.version
        self._steps: Callable[[date], tuple[Resolved, ...]] = functools.lru_cache(_CACHE_DAYS)(
            self._work_out
        )
        self._edges: Callable[[date], list[datetime]] = functools.lru_cache(_CACHE_DAYS)(
            self._edges_of
        )
        zone = schedule.sun.zone
        self._bounds: Callable[[date], tuple[datetime, datetime]] = functools.lru_cache(
            _CACHE_DAYS
        )(lambda day: lighting_day_bounds(day, zone))
        self._span: tuple[datetime, datetime, float] | None = None  # [start, end): level

    def _plan(self, day: date) -> tuple[Resolved, ...]:
        calendar = self.schedule.calendar
        assert calendar is not None
        return day_plan(calendar, self.schedule.programs, day, self.schedule.sun).steps

    def _work_out(self, day: date) -> tuple[Resolved, ...]:
        # As evaluate.level: the day before's last step holds until the day's first.
        return (*self._plan(day - timedelta(days=1)), *self._plan(day))

    def _edges_of(self, day: date) -> list[datetime]:
        """When steps start and ramps end, from lighting day ``day`` to the next, sorted."""
        steps = (*self._steps(day), *self._steps(day + timedelta(days=1)))
        return sorted({t for s in steps for t in (s.at, s.ramp_end)})

    def overridden(self, moment: datetime, light_id: str | None = None) -> float | None:
        """The level of the override in force on ``light_id`` at ``moment`` (the last
        listed of several), or ``None``."""
        found = None
        for override in self.schedule.overrides:
            if override.covers(light_id, moment):
                found = override
        return None if found is None else found.level_pct

    def level(self, moment: datetime, light_id: str | None = None) -> float | None:
        """The level the schedule asks of ``light_id`` (``None``: of the cabinet as a
        whole) at ``moment``: an override's in force, else the calendar's; ``None`` when
        neither applies (the controller then keeps its own astronomical clock)."""
        if self.schedule.overrides:
            forced = self.overridden(moment, light_id)
            if forced is not None:
                return forced
        if self.schedule.calendar is None:
            return None
        span = self._span
        if span is not None and span[0] <= moment < span[1]:
            return span[2]
        day = lighting_day(moment, self.schedule.sun.zone)
        steps = self._steps(day)
        value = level_at(steps, moment)
        edges = self._edges(day)
        index = bisect_right(edges, moment)
        if 0 < index < len(edges):
            first, last = self._bounds(day)
            start, end = max(edges[index - 1], first), min(edges[index], last)
            # Constant between these two edges, unless a ramp runs there: then the middle
            # (or the start) differs from the level found.
            middle = start + (end - start) / 2
            if level_at(steps, start) == value == level_at(steps, middle):
                self._span = (start, end, value)
        return value

    def next_change(self, moment: datetime) -> datetime | None:
        """The first moment after ``moment`` when the level may change (a step starts or
        its ramp ends, a lighting day begins, an override starts or ends); ``None``
        without a calendar nor an override to come."""
        edges = [t for o in self.schedule.overrides for t in (o.starts_at, o.ends_at) if t > moment]
        calendar = self._next_calendar_change(moment)
        if calendar is not None:
            edges.append(calendar)
        return min(edges) if edges else None

    def _next_calendar_change(self, moment: datetime) -> datetime | None:
        if self.schedule.calendar is None:
            return None
        zone = self.schedule.sun.zone
        day = lighting_day(moment, zone)
        edges = self._edges(day)
        index = bisect_right(edges, moment)
        if index < len(edges):
            return edges[index]
        return lighting_day_bounds(day + timedelta(days=1), zone)[1]
