"""Properties of the service-level clock, over any creation time, duration and working
calendar (days, hours, time zones with their DST changes, public holidays).

The working time between two instants is measured here independently of
:func:`beffroi.interventions.sla.due_at`, by summing each working day's overlap."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.interventions.lifecycle import Priority
from beffroi.interventions.sla import Calendar, SlaConfig, SlaRule, due_at, is_working_day

# Zones with DST at 02:00 (Paris, New York), a half-hour DST (Lord Howe) and none.
ZONES = ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]
MAX_MINUTES = 100 * 60  # the longest default service level
PROPERTY = settings(max_examples=200, deadline=None)


@dataclass(frozen=True, slots=True)
class Case:
    """A creation time and a working calendar."""

    created: datetime
    config: SlaConfig

    def due(self, minutes: int, calendar: Calendar = Calendar.WORKING) -> datetime:
        """When a duration of ``minutes`` on ``calendar`` from creation is due."""
        return due_at(self.created, Priority.NORMAL, self.rule(minutes, calendar))

    def rule(self, minutes: int, calendar: Calendar = Calendar.WORKING) -> SlaConfig:
        """The calendar with the normal priority on ``minutes``."""
        rule = SlaRule(minutes / 60, calendar)
        return replace(self.config, rules={Priority.NORMAL: rule})


def changes_of_offset(zone: ZoneInfo) -> list[datetime]:
    """The days (at 00:00 UTC) on which the zone's offset changes, 2024 to 2031."""
    day, end, found = datetime(2024, 1, 1, tzinfo=UTC), datetime(2032, 1, 1, tzinfo=UTC), []
    while day < end:
        if (
            day.astimezone(zone).utcoffset()
            != (day + timedelta(days=1)).astimezone(zone).utcoffset()
        ):
            found.append(day)
        day += timedelta(days=1)
    return found


CHANGES = {name: changes_of_offset(ZoneInfo(name)) for name in ZONES}


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """Any calendar of at least an hour a week, and a creation instant of 2024 to 2031;
    often open at night and created in the days before a change of the zone's offset."""
    name = draw(st.sampled_from(ZONES))
    # Any opening hours of an hour or more, or hours open across the night's DST changes
    # (01:00 to 03:00), in minutes of the day.
    first, last = draw(
        st.one_of(
            st.integers(0, 23 * 60 - 60).flatmap(
                lambda first: st.tuples(st.just(first), st.integers(first + 60, 24 * 60 - 1))
            ),
            st.tuples(st.integers(0, 60), st.integers(3 * 60, 4 * 60)),
        )
    )
    config = SlaConfig(
        rules={},
        zone=ZoneInfo(name),
        work_start=time(first // 60, first % 60),
        work_end=time(last // 60, last % 60),
        # DST changes fall on Sundays and Saturdays: the whole week is often open.
        work_days=draw(
            st.one_of(st.frozensets(st.integers(0, 6), min_size=1), st.just(frozenset(range(7))))
        ),
        public_holidays=draw(st.booleans()),
    )
    # Hypothesis takes naive bounds and gives instants in the zones it is told.
    since, until = datetime(2024, 1, 1), datetime(2031, 12, 31)  # noqa: DTZ001
    anytime = st.datetimes(since, until, timezones=st.just(UTC))
    before_a_change = st.builds(
        lambda change, minutes: change - timedelta(minutes=minutes),
        st.sampled_from(CHANGES[name]),
        st.integers(-24 * 60, 3 * 24 * 60),
    )
    near = st.one_of(anytime, before_a_change) if CHANGES[name] else anytime
    return Case(draw(near), config)


durations = st.integers(1, MAX_MINUTES)


def opening_hours(
    moment: datetime, config: SlaConfig, days: int
) -> list[tuple[datetime, datetime]]:
    """The working periods (UTC) of the local days around ``moment`` and ``days`` after."""
    start = moment.astimezone(config.zone).date() - timedelta(days=1)
    periods = []
    for n in range(days + 3):
        day = start + timedelta(days=n)
        if is_working_day(day, config):
            opens = datetime.combine(day, config.work_start, config.zone).astimezone(UTC)
            closes = datetime.combine(day, config.work_end, config.zone).astimezone(UTC)
            periods.append((opens, closes))
    return periods


def working_time(start: datetime, end: datetime, config: SlaConfig) -> timedelta:
    """Working time between two instants: the sum of each working day's overlap."""
    total = timedelta()
    for opens, closes in opening_hours(start, config, (end - start).days + 1):
        overlap = min(closes, end) - max(opens, start)
        if overlap > timedelta():
            total += overlap
    return total


@PROPERTY
@given(cases(), durations, st.sampled_from(Calendar))
def test_the_deadline_is_after_the_creation(case: Case, minutes: int, calendar: Calendar) -> None:
    due = case.due(minutes, calendar)
    assert due > case.created
    assert due.tzinfo is UTC


@PROPERTY
@given(cases(), durations)
def test_continuous_time_is_real_time(case: Case, minutes: int) -> None:
    assert case.due(minutes, Calendar.CONTINUOUS) - case.created == timedelta(minutes=minutes)


@PROPERTY
@given(cases(), durations)
def test_the_working_time_until_the_deadline_is_the_service_level(case: Case, minutes: int) -> None:
    due = case.due(minutes)
    assert working_time(case.created, due, case.config) == timedelta(minutes=minutes)


@PROPERTY
@given(cases(), durations)
def test_the_deadline_falls_in_working_hours(case: Case, minutes: int) -> None:
    due = case.due(minutes)
    periods = opening_hours(due, case.config, 0)
    assert any(opens < due <= closes for opens, closes in periods), (
        f"due {due.astimezone(case.config.zone)} outside the working hours"
    )


@PROPERTY
@given(cases(), durations, durations)
def test_running_the_clock_in_two_parts_loses_no_time(case: Case, first: int, second: int) -> None:
    # The clock stopped at the first deadline and started again there: no time is lost
    # or gained across nights, weekends, holidays and DST changes.
    halfway = case.due(first)
    resumed = Case(halfway, case.config).due(second)
    assert resumed == case.due(first + second)


@PROPERTY
@given(cases(), durations, durations)
def test_a_longer_service_level_is_due_later(case: Case, shorter: int, longer: int) -> None:
    shorter, longer = sorted((shorter, longer))
    for calendar in Calendar:
        assert case.due(shorter, calendar) <= case.due(longer, calendar)
        if shorter < longer:
            assert case.due(shorter, calendar) < case.due(longer, calendar)


@PROPERTY
@given(cases(), st.integers(0, 14 * 24 * 60), durations)
def test_a_later_creation_is_never_due_earlier(case: Case, later_by: int, minutes: int) -> None:
    later = Case(case.created + timedelta(minutes=later_by), case.config)
    assert later.due(minutes) >= case.due(minutes)
    assert later.due(minutes, Calendar.CONTINUOUS) >= case.due(minutes, Calendar.CONTINUOUS)
