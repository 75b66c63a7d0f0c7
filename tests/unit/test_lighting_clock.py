"""The astronomical clock and the lighting day: sunset and sunrise in Dijon against an
almanac and a second method, programs placed on the clock across the two clock changes."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from beffroi.core.sun import SunCalendar
from beffroi.lighting.clock import lighting_day, local_instant, resolve
from beffroi.lighting.program import parse_program

PARIS = ZoneInfo("Europe/Paris")
# Dijon, as in the brief (timeanddate's position for the city): 47.322 N, 5.041 E.
DIJON = SunCalendar(47.322, 5.041)

# Almanac: Ouest-France's "Kalendrier" pages for Dijon (kalendrier.ouest-france.fr,
# heure-lever-coucher-soleil/<year>/<month>/dijon.html), local times to the minute:
# (day, sunrise, sunset).
ALMANAC = [
    (date(2019, 10, 1), "07:38", "19:20"),
    (date(2019, 10, 3), "07:41", "19:16"),
    (date(2019, 10, 7), "07:46", "19:08"),
    (date(2023, 4, 1), "07:19", "20:08"),
    (date(2023, 4, 5), "07:11", "20:14"),
    (date(2023, 4, 8), "07:05", "20:18"),
    (date(2025, 9, 1), "06:59", "20:20"),
    (date(2025, 9, 4), "07:03", "20:14"),
    (date(2025, 9, 8), "07:08", "20:06"),
]


def _minutes_apart(moment: datetime, day: date, clock: str) -> int:
    """Whole minutes between ``moment``, rounded to the minute as the almanac prints it,
    and the almanac's ``clock``."""
    rounded = (moment + timedelta(seconds=30)).replace(second=0, microsecond=0)
    expected = datetime.combine(day, time.fromisoformat(clock), PARIS)
    return abs(int((rounded - expected).total_seconds()) // 60)


@pytest.mark.parametrize(("day", "sunrise", "sunset"), ALMANAC)
def test_sunrise_and_sunset_in_dijon_match_the_almanac(
    day: date, sunrise: str, sunset: str
) -> None:
    sun = DIJON.day(day)
    # The almanac prints whole minutes: ours, printed the same way, within one of it.
    assert _minutes_apart(sun.sunrise, day, sunrise) <= 1
    assert _minutes_apart(sun.sunset, day, sunset) <= 1


def _noaa(day: date, lat: float, lon: float, rising: bool) -> datetime:
    """Sunrise or sunset by NOAA's solar calculator equations (Meeus, simplified): a
    second method, independent of astral, to cross-check dates the almanac does not give."""
    minutes = 720 - 4 * lon
    julian_day = (day - date(2000, 1, 1)).days + 2451544.5
    for _ in range(3):
        t = (julian_day + minutes / 1440 - 2451545.0) / 36525
        mean_long = math.radians((280.46646 + t * (36000.76983 + t * 0.0003032)) % 360)
        anomaly = math.radians(357.52911 + t * (35999.05029 - 0.0001537 * t))
        ecc = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)
        centre = (
            math.sin(anomaly) * (1.914602 - t * (0.004817 + 0.000014 * t))
            + math.sin(2 * anomaly) * (0.019993 - 0.000101 * t)
            + math.sin(3 * anomaly) * 0.000289
        )
        omega = math.radians(125.04 - 1934.136 * t)
        apparent = math.radians(
            math.degrees(mean_long) + centre - 0.00569 - 0.00478 * math.sin(omega)
        )
        obliquity = math.radians(
            23
            + (26 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60) / 60
            + 0.00256 * math.cos(omega)
        )
        declination = math.asin(math.sin(obliquity) * math.sin(apparent))
        y = math.tan(obliquity / 2) ** 2
        equation = 4 * math.degrees(
            y * math.sin(2 * mean_long)
            - 2 * ecc * math.sin(anomaly)
            + 4 * ecc * y * math.sin(anomaly) * math.cos(2 * mean_long)
            - 0.5 * y * y * math.sin(4 * mean_long)
            - 1.25 * ecc * ecc * math.sin(2 * anomaly)
        )
        phi = math.radians(lat)
        hour_angle = math.degrees(
            math.acos(
                math.cos(math.radians(90.833)) / (math.cos(phi) * math.cos(declination))
                - math.tan(phi) * math.tan(declination)
            )
        )
        minutes = 720 - 4 * (lon + (hour_angle if rising else -hour_angle)) - equation
    return datetime.combine(day, time(0), UTC) + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    "day",
    [date(2026, 3, 29), date(2026, 6, 21), date(2026, 10, 25), date(2026, 12, 21)],
)
def test_the_clock_agrees_with_a_second_method(day: date) -> None:
    sun = DIJON.day(day)
    assert abs((sun.sunrise - _noaa(day, 47.322, 5.041, True)).total_seconds()) <= 60
    assert abs((sun.sunset - _noaa(day, 47.322, 5.041, False)).total_seconds()) <= 60


NIGHT = parse_program(
    {
        "steps": [
            {"anchor": "sunset", "offset_min": -10, "level_pct": 100, "ramp_s": 60},
            {"anchor": "time", "at": "23:00", "level_pct": 50, "ramp_s": 300},
            {"anchor": "time", "at": "05:00", "level_pct": 100},
            {"anchor": "sunrise", "offset_min": 15, "level_pct": 0, "ramp_s": 60},
        ]
    }
)


def _local(steps: list[datetime]) -> list[str]:
    return [s.astimezone(PARIS).strftime("%d %H:%M %Z") for s in steps]


def test_spring_forward_night_keeps_local_step_times() -> None:
    # Lighting day 28 March 2026 runs into Sunday the 29th, when 02:00 becomes 03:00.
    steps = [s.at for s in resolve(NIGHT, date(2026, 3, 28), DIJON)]
    local = _local(steps)
    assert local[1] == "28 23:00 CET"
    assert local[2] == "29 05:00 CEST"
    assert steps[1] == datetime(2026, 3, 28, 22, 0, tzinfo=UTC)
    assert steps[2] == datetime(2026, 3, 29, 3, 0, tzinfo=UTC)  # a night of 4 h, not 5
    sunset = DIJON.day(date(2026, 3, 28)).sunset
    sunrise = DIJON.day(date(2026, 3, 29)).sunrise
    assert steps[0] == (sunset - timedelta(minutes=10)).replace(microsecond=0)
    assert steps[3] == (sunrise + timedelta(minutes=15)).replace(microsecond=0)
    assert local[3].endswith("CEST")


def test_fall_back_night_keeps_local_step_times() -> None:
    # Lighting day 24 October 2026 runs into Sunday the 25th, when 03:00 becomes 02:00.
    steps = [s.at for s in resolve(NIGHT, date(2026, 10, 24), DIJON)]
    assert _local(steps)[1:3] == ["24 23:00 CEST", "25 05:00 CET"]
    assert steps[1] == datetime(2026, 10, 24, 21, 0, tzinfo=UTC)
    assert steps[2] == datetime(2026, 10, 25, 4, 0, tzinfo=UTC)  # a night of 7 h, not 6


def test_times_that_do_not_exist_or_happen_twice() -> None:
    # 02:30 on 29 March 2026 does not exist: it runs when the clocks jump (03:00 CEST).
    assert local_instant(date(2026, 3, 29), time(2, 30), PARIS) == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )
    # 02:30 on 25 October 2026 happens twice: the first time (still summer time).
    assert local_instant(date(2026, 10, 25), time(2, 30), PARIS) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )
    # An ordinary time is just itself.
    assert local_instant(date(2026, 7, 14), time(23), PARIS) == datetime(
        2026, 7, 14, 21, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2026, 12, 24, 11, 0, tzinfo=UTC), date(2026, 12, 24)),  # 12:00 local
        (datetime(2026, 12, 24, 10, 59, tzinfo=UTC), date(2026, 12, 23)),  # 11:59 local
        (datetime(2026, 12, 24, 23, 30, tzinfo=UTC), date(2026, 12, 24)),  # 00:30 on the 25th
        (datetime(2026, 12, 25, 10, 59, tzinfo=UTC), date(2026, 12, 24)),  # 11:59 on the 25th
        (datetime(2026, 7, 14, 10, 0, tzinfo=UTC), date(2026, 7, 14)),  # 12:00 summer time
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), date(2026, 3, 28)),  # 03:30 CEST
    ],
)
def test_a_lighting_day_runs_noon_to_noon(moment: datetime, day: date) -> None:
    assert lighting_day(moment, PARIS) == day


def test_steps_of_a_lighting_day_stay_within_it() -> None:
    steps = resolve(NIGHT, date(2026, 12, 24), DIJON)
    start = datetime(2026, 12, 24, 11, 0, tzinfo=UTC)
    assert all(start <= s.at < start + timedelta(days=1) for s in steps)
    assert [s.at for s in steps] == sorted(s.at for s in steps)
