"""Programs, calendars, levels, resolution and schedule documents of the lighting area:
the pure parts, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.core.errors import InvalidInput
from beffroi.core.sun import SunCalendar
from beffroi.lighting.calendar import HOLIDAYS, holidays_of, match, parse_calendar
from beffroi.lighting.clock import Resolved, check_year, level_at, resolve
from beffroi.lighting.evaluate import level
from beffroi.lighting.program import StepKind, parse_program
from beffroi.lighting.resolution import Assigned, Placed, Resolver
from beffroi.lighting.schedule import content, content_hash
from beffroi.lighting.schemas import TargetKind

DIJON = SunCalendar(47.322, 5.041)


def _errors(data: dict[str, Any], *, year: int | None = None) -> list[tuple[str, str]]:
    def check() -> None:
        spec = parse_program(data)
        if year is not None:
            check_year(spec, year, DIJON)

    with pytest.raises(InvalidInput) as caught:
        check()
    return [(e.field, e.message) for e in caught.value.errors]


def _fields(data: dict[str, Any], **kw: Any) -> list[str]:
    return [field for field, _ in _errors(data, **kw)]


def step(**kw: Any) -> dict[str, Any]:
    return {"anchor": "time", "at": "23:00", "level_pct": 50, **kw}


@pytest.mark.parametrize(
    ("steps", "fields"),
    [
        ([step(level_pct=101)], ["steps.0.level_pct"]),
        ([step(), step(at="01:00", level_pct=-1)], ["steps.1.level_pct"]),
        ([step(), step(), step(level_pct=float("nan"))], ["steps.2.level_pct"]),
        ([{"anchor": "sunset", "offset_min": 181, "level_pct": 100}], ["steps.0.offset_min"]),
        ([{"anchor": "sunrise", "offset_min": -181, "level_pct": 0}], ["steps.0.offset_min"]),
        ([step(offset_min=10)], ["steps.0.offset_min"]),
        ([{"anchor": "time", "level_pct": 10}], ["steps.0.at"]),
        ([{"anchor": "sunset", "at": "20:00", "level_pct": 10}], ["steps.0.at"]),
        ([step(at="23:00:30")], ["steps.0.at"]),
        ([step(kind="presence")], ["steps.0.presence_level_pct", "steps.0.hold_s"]),
        (
            [step(kind="presence", presence_level_pct=20, hold_s=60)],
            ["steps.0.presence_level_pct"],
        ),
        ([step(hold_s=60)], ["steps.0.hold_s"]),
        ([step(ramp_s=3601)], ["steps.0.ramp_s"]),
        ([step(colour="blue")], ["steps.0.colour"]),
        ([], ["steps"]),
    ],
)
def test_bad_steps_are_refused_naming_the_field(
    steps: list[dict[str, Any]], fields: list[str]
) -> None:
    assert _fields({"steps": steps}) == fields


def test_unordered_and_overlapping_steps_are_refused_on_the_day_they_break() -> None:
    # 05:00 then 23:00: out of order every day.
    found = _errors({"steps": [step(at="05:00"), step(at="23:00")]}, year=2026)
    assert found[0][0] == "steps.1.at"
    assert "2026-01-01" in found[0][1]
    # A ramp of an hour from 22:30 runs into the 23:00 step.
    found = _errors({"steps": [step(at="22:30", ramp_s=3600), step(at="23:00")]}, year=2026)
    assert found[0][0] == "steps.0.ramp_s"
    # 21:00 comes after sunset in winter, before it in summer: refused, naming a June day.
    found = _errors(
        {"steps": [{"anchor": "sunset", "level_pct": 100}, step(at="21:00")]}, year=2026
    )
    assert found[0][0] == "steps.1.at"
    assert "2026-0" in found[0][1]


def test_a_good_program_passes_every_day_of_a_year() -> None:
    spec = parse_program(
        {
            "steps": [
                {"anchor": "sunset", "offset_min": -15, "level_pct": 100, "ramp_s": 120},
                step(at="23:30", level_pct=40, ramp_s=600),
                step(kind="presence", at="00:30", level_pct=20, presence_level_pct=80, hold_s=120),
                step(at="05:30", level_pct=100),
                {"anchor": "sunrise", "offset_min": 20, "level_pct": 0, "ramp_s": 120},
            ]
        }
    )
    check_year(spec, 2026, DIJON)
    assert resolve(spec, date(2026, 1, 1), DIJON)[2].kind is StepKind.PRESENCE


def calendar(*rules: dict[str, Any], default: int = 1) -> Any:
    return parse_calendar({"rules": list(rules), "default_program_id": default})


def test_calendar_rules_are_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        calendar(
            {"kind": "holidays", "program_id": 2, "holidays": ["christmas_day", "xmas"]},
            {"kind": "weekdays", "program_id": 2, "weekdays": []},
            {"kind": "period", "program_id": 2, "start": "2026-05-01", "end": "2026-04-01"},
            {"kind": "dates", "program_id": 2},
            {"kind": "weekdays", "program_id": 2, "weekdays": ["sun"], "annual": True},
            {"kind": "dates", "program_id": 0, "dates": ["2026-01-01"]},
        )
    fields = [e.field for e in caught.value.errors]
    assert fields == [
        "rules.0.holidays",
        "rules.1.weekdays",
        "rules.2.end",
        "rules.3.dates",
        "rules.4.annual",
        "rules.5.program_id",
    ]
    assert "unknown holiday 'xmas'" in caught.value.errors[0].message
    with pytest.raises(InvalidInput) as caught:
        parse_calendar({"rules": []})
    assert [e.field for e in caught.value.errors] == ["default_program_id"]


def test_the_first_matching_rule_wins() -> None:
    christmas_eve = {"kind": "dates", "program_id": 2, "dates": ["2026-12-24"], "annual": True}
    holidays = {"kind": "holidays", "program_id": 3, "holidays": ["any"]}
    weekend = {"kind": "weekdays", "program_id": 4, "weekdays": ["fri", "sat"]}
    winter = {
        "kind": "period",
        "program_id": 5,
        "start": "2026-12-01",
        "end": "2026-01-06",
        "annual": True,
    }
    cal = calendar(christmas_eve, holidays, weekend, winter)
    assert match(cal, date(2027, 12, 24)).program_id == 2  # annual date, a Friday
    assert match(cal, date(2026, 12, 25)).program_id == 3  # Christmas Day, a Friday too
    assert match(cal, date(2026, 12, 26)).program_id == 4  # a Saturday in winter
    assert match(cal, date(2026, 12, 28)).program_id == 5  # a Monday in winter
    assert match(cal, date(2027, 1, 4)).program_id == 5  # the period runs across the year
    found = match(cal, date(2026, 11, 30))
    assert (found.program_id, found.rule_index) == (1, None)  # nothing matched: the default
    # The same rules in another order: the weekend now beats Christmas.
    cal = calendar(weekend, holidays, christmas_eve, winter)
    assert match(cal, date(2026, 12, 25)).program_id == 4
    assert match(cal, date(2026, 12, 24)).program_id == 2  # a Thursday


def test_every_holiday_key_names_a_french_public_holiday() -> None:
    found = {key for keys in holidays_of(2026).values() for key in keys}
    assert found == set(HOLIDAYS)
    assert holidays_of(2026)[date(2026, 5, 25)] == {"whit_monday"}


def _steps(*triples: tuple[int, float, int]) -> list[Resolved]:
    base = datetime(2026, 1, 1, 17, tzinfo=UTC)
    return [
        Resolved(i, base + timedelta(minutes=m), lvl, ramp, StepKind.LEVEL)
        for i, (m, lvl, ramp) in enumerate(triples)
    ]


def test_ramps_are_linear() -> None:
    steps = _steps((0, 100, 0), (60, 50, 600), (120, 0, 0))
    at = steps[1].at
    assert level_at(steps, at - timedelta(seconds=1)) == 100
    assert level_at(steps, at) == 100
    assert level_at(steps, at + timedelta(seconds=300)) == pytest.approx(75)
    assert level_at(steps, at + timedelta(seconds=600)) == 50
    assert level_at(steps, steps[0].at - timedelta(seconds=1), before=30) == 30
    assert level_at(steps, steps[2].at + timedelta(hours=5)) == 0


@st.composite
def programs(draw: st.DrawFn) -> list[Resolved]:
    count = draw(st.integers(1, 8))
    gaps = draw(st.lists(st.integers(1, 7200), min_size=count, max_size=count))
    levels = draw(st.lists(st.floats(0, 100), min_size=count, max_size=count))
    ramps = [draw(st.integers(0, gap)) for gap in gaps]  # a ramp ends before the next step
    base = datetime(2026, 1, 1, 17, tzinfo=UTC)
    out, at = [], base
    for i, (gap, lvl, ramp) in enumerate(zip(gaps, levels, ramps, strict=True)):
        out.append(Resolved(i, at, lvl, ramp, StepKind.LEVEL))
        at += timedelta(seconds=gap)
    return out


@settings(max_examples=200, deadline=None)
@given(programs(), st.floats(0, 100), st.integers(-600, 40000))
def test_the_level_stays_in_range_and_moves_one_way_between_steps(
    steps: list[Resolved], before: float, seconds: int
) -> None:
    moment = steps[0].at + timedelta(seconds=seconds)
    value = level_at(steps, moment, before)
    assert 0 <= value <= 100
    # Between a step's start and the next, the level moves monotonically towards its own.
    later = level_at(steps, moment + timedelta(seconds=1), before)
    index = sum(1 for s in steps if s.at <= moment) - 1
    if index >= 0 and (
        index + 1 == len(steps) or moment + timedelta(seconds=1) < steps[index + 1].at
    ):
        target = steps[index].level_pct
        assert abs(later - target) <= abs(value - target) + 1e-9


def test_the_level_before_the_first_step_is_the_previous_night_s() -> None:
    # Christmas Eve's program stays at 100 % through the night; the ordinary one dims.
    eve = parse_program(
        {"steps": [{"anchor": "sunset", "level_pct": 100}, {"anchor": "sunrise", "level_pct": 0}]}
    )
    ordinary = parse_program(
        {
            "steps": [
                {"anchor": "sunset", "level_pct": 100},
                step(at="23:00", level_pct=50),
                {"anchor": "sunrise", "level_pct": 0},
            ]
        }
    )
    cal = calendar({"kind": "dates", "program_id": 2, "dates": ["2026-12-24"]})
    programs_ = {1: ordinary, 2: eve}
    midnight_25 = datetime(2026, 12, 24, 23, 0, tzinfo=UTC)
    assert level(cal, programs_, midnight_25, DIJON) == 100  # the 24th's lighting day
    assert level(cal, programs_, midnight_25 + timedelta(days=1), DIJON) == 50
    assert level(cal, programs_, datetime(2026, 12, 25, 12, tzinfo=UTC), DIJON) == 0


def _assigned(i: int, target: TargetKind, **kw: Any) -> Assigned:
    fields: dict[str, Any] = {
        "cabinet_id": None,
        "group_id": None,
        "commune": None,
        "polygon": None,
    }
    return Assigned(i, 100 + i, target, **{**fields, **kw})


SQUARE = {
    "type": "Polygon",
    "coordinates": [[[5.0, 47.33], [5.01, 47.33], [5.01, 47.34], [5.0, 47.34], [5.0, 47.33]]],
}


def test_the_most_specific_assignment_wins() -> None:
    everything = [
        _assigned(1, TargetKind.DEFAULT),
        _assigned(2, TargetKind.COMMUNE, commune="talant"),
        _assigned(3, TargetKind.POLYGON, polygon=SQUARE),
        _assigned(4, TargetKind.GROUP, group_id=7, commune="talant"),
        _assigned(5, TargetKind.CABINET, cabinet_id="LC-1", commune="talant"),
    ]
    members = {7: {"LC-1", "LC-2"}}
    inside = Placed("LC-1", "talant", 5.005, 47.337)
    for expected in (5, 4, 3, 2, 1):
        found = Resolver(everything, members).for_(inside)
        assert found is not None
        assert found.id == expected
        everything = [a for a in everything if a.id != expected]
    assert Resolver([], {}).for_(inside) is None
    # A polygon limited to a commune leaves the other communes' cabinets inside it alone.
    limited = [_assigned(1, TargetKind.POLYGON, polygon=SQUARE, commune="chenove")]
    assert Resolver(limited, {}).for_(inside) is None
    # Of two polygons around a cabinet, the newer assignment wins.
    both = [
        _assigned(1, TargetKind.POLYGON, polygon=SQUARE),
        _assigned(9, TargetKind.POLYGON, polygon=SQUARE),
    ]
    found = Resolver(both, {}).for_(inside)
    assert found is not None
    assert found.id == 9


def test_a_schedule_keeps_sun_steps_relative_and_hashes_its_content() -> None:
    program = parse_program(
        {"steps": [{"anchor": "sunset", "offset_min": -10, "level_pct": 100}, step(at="23:00")]}
    )
    cal = calendar({"kind": "holidays", "program_id": 1, "holidays": ["christmas_day"]})

    def doc(**kw: Any) -> dict[str, Any]:
        args: dict[str, Any] = {
            "cabinet_id": "LC-1",
            "lat": 47.3372,
            "lon": 5.0051,
            "timezone": "Europe/Paris",
            "calendar_id": 3,
            "calendar": cal,
            "programs": {1: program},
            "year": 2026,
        }
        return content(**{**args, **kw})

    document = doc()
    assert document["programs"]["1"]["steps"][0] == {
        "kind": "level",
        "anchor": "sunset",
        "offset_min": -10,
        "level_pct": 100.0,
        "ramp_s": 0,
    }
    assert document["calendar"]["rules"][0]["dates"] == ["2026-12-25", "2027-12-25"]
    assert content_hash(doc()) == content_hash(document)
    assert content_hash(doc(lat=47.3372000001)) == content_hash(document)  # below a metre
    assert content_hash(doc(year=2027)) != content_hash(document)
    assert doc(calendar=None, calendar_id=None)["calendar"] is None
