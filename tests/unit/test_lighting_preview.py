"""The program editor's preview: a program's level through one lighting day, point by
point, exact at each step and ramp, with the previous night's last step until the first."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from beffroi.core.sun import SunCalendar
from beffroi.lighting.clock import lighting_day_bounds
from beffroi.lighting.preview import curve
from beffroi.lighting.program import parse_program

DIJON = SunCalendar(47.322, 5.041)
NIGHT = parse_program(
    {
        "steps": [
            {"anchor": "sunset", "offset_min": -10, "level_pct": 100, "ramp_s": 60},
            {"anchor": "time", "at": "23:00", "level_pct": 50, "ramp_s": 300},
            {"anchor": "time", "at": "05:00", "level_pct": 100},
            {"anchor": "sunrise", "offset_min": 10, "level_pct": 0},
        ]
    }
)
DAY = date(2026, 12, 14)


def test_points_span_the_lighting_day_every_five_minutes_and_at_each_edge() -> None:
    steps, points = curve(NIGHT, DAY, DIJON, 5)
    start, end = lighting_day_bounds(DAY, DIJON.zone)
    moments = [m for m, _ in points]
    assert moments == sorted(set(moments))
    assert (moments[0], moments[-1]) == (start, end)
    assert end - start == timedelta(hours=24)
    # 288 five-minute marks and the end; the sunset step and its ramp's end fall between
    # marks, so do the sunrise step; 23:00, 23:05 and 05:00 are marks already.
    extra = {s.at for s in steps} | {s.ramp_end for s in steps}
    assert extra <= set(moments)
    assert len(moments) == 289 + len({m for m in extra if (m - start) % timedelta(minutes=5)})


def test_levels_follow_the_steps_and_their_ramps() -> None:
    _, points = curve(NIGHT, DAY, DIJON, 5)
    level = dict(points)
    # 23:00 Paris is 22:00 UTC in December: the five-minute ramp from 100 to 50.
    assert level[datetime(2026, 12, 14, 22, 0, tzinfo=UTC)] == 100
    assert level[datetime(2026, 12, 14, 22, 5, tzinfo=UTC)] == 50
    assert level[datetime(2026, 12, 15, 3, 0, tzinfo=UTC)] == 50
    assert level[datetime(2026, 12, 15, 4, 0, tzinfo=UTC)] == 100  # 05:00 Paris
    # Noon: the previous night ended at sunrise + 10 min with 0 %; so does this one.
    assert points[0][1] == 0
    assert points[-1][1] == 0
    sunset = DIJON.day(DAY).sunset - timedelta(minutes=10)
    at_sunset = [
        lv
        for m, lv in points
        if sunset.replace(microsecond=0) <= m < sunset + timedelta(seconds=60)
    ]
    assert at_sunset[0] == 0  # the ramp starts from the day's 0 %
    assert max(lv for _, lv in points) == 100


def test_a_finer_step_gives_more_points_on_the_same_curve() -> None:
    _, coarse = curve(NIGHT, DAY, DIJON, 15)
    _, fine = curve(NIGHT, DAY, DIJON, 1)
    assert len(fine) > 3 * len(coarse)
    levels = dict(fine)
    assert all(levels[m] == lv for m, lv in coarse)


def test_a_program_out_of_order_is_still_drawn() -> None:
    # In June, 21:00 comes before sunset: the save refuses it, the preview draws it.
    spec = parse_program(
        {
            "steps": [
                {"anchor": "sunset", "level_pct": 100},
                {"anchor": "time", "at": "21:00", "level_pct": 50},
            ]
        }
    )
    _, points = curve(spec, date(2026, 6, 20), DIJON, 5)
    level = dict(points)
    # 21:00 Paris (19:00 UTC): 50 %, until sunset (about 21:30) brings 100 %.
    assert level[datetime(2026, 6, 20, 19, 5, tzinfo=UTC)] == 50
    assert level[datetime(2026, 6, 20, 21, 0, tzinfo=UTC)] == 100
