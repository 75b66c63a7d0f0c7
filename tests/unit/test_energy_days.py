"""Local days of the energy area: bounds, off-peak hours, shares of a year's nights."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from beffroi.config import load_settings, offpeak_hours
from beffroi.core.sun import SunCalendar
from beffroi.energy import days

PARIS = ZoneInfo("Europe/Paris")


def test_offpeak_ranges_may_cross_midnight() -> None:
    assert offpeak_hours("22-6") == {22, 23, 0, 1, 2, 3, 4, 5}
    assert offpeak_hours("1-7,12-14") == {1, 2, 3, 4, 5, 6, 12, 13}
    assert load_settings().energy_offpeak_hours == "22-6"


def test_a_clock_change_day_has_23_hours_and_its_offpeak_hours_in_utc() -> None:
    start, end = days.bounds(date(2026, 3, 29), PARIS)
    assert (start, end) == (
        datetime(2026, 3, 28, 23, tzinfo=UTC),
        datetime(2026, 3, 29, 22, tzinfo=UTC),
    )
    cheap = days.offpeak_buckets(date(2026, 3, 29), PARIS, offpeak_hours("22-6"))
    # 00:00, 01:00, then 03:00 to 05:00 summer time (02:00 never happened), 22:00, 23:00.
    assert [m.astimezone(PARIS).hour for m in cheap] == [0, 1, 3, 4, 5, 22, 23]
    assert cheap[0] == datetime(2026, 3, 28, 23, tzinfo=UTC)


@pytest.mark.parametrize("year", [2026, 2028])
def test_the_shares_of_a_year_add_up_to_one(year: int) -> None:
    sun = SunCalendar(47.32, 5.04, "Europe/Paris")
    first = date(year, 1, 1)
    count = (date(year + 1, 1, 1) - first).days
    shares = [days.year_share(sun, date.fromordinal(first.toordinal() + d)) for d in range(count)]
    assert sum(shares) == pytest.approx(1)
    assert days.year_share(sun, date(year, 12, 21)) > 1.5 * days.year_share(sun, date(year, 6, 21))
    assert days.year_share(None, first) == 1 / count


def test_offpeak_hours_make_runs_of_consecutive_hours() -> None:
    cheap = days.offpeak_buckets(date(2026, 11, 18), PARIS, offpeak_hours("22-6"))
    assert days.runs(cheap) == [
        (datetime(2026, 11, 17, 23, tzinfo=UTC), datetime(2026, 11, 18, 5, tzinfo=UTC)),
        (datetime(2026, 11, 18, 21, tzinfo=UTC), datetime(2026, 11, 18, 23, tzinfo=UTC)),
    ]
    assert days.runs([]) == []
