"""Service levels: due times across nights, weekends, public holidays and DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from beffroi.config import load_settings
from beffroi.core.errors import InvalidInput
from beffroi.core.time import public_holidays
from beffroi.interventions import photos
from beffroi.interventions.lifecycle import (
    FINAL,
    TRANSITIONS,
    Actor,
    Status,
    allowed,
    next_statuses,
)
from beffroi.interventions.lifecycle import Priority as P
from beffroi.interventions.sla import (
    DEFAULT_RULES,
    Calendar,
    SlaConfig,
    SlaRule,
    due_at,
)

PARIS = ZoneInfo("Europe/Paris")
CONFIG = SlaConfig(rules=DEFAULT_RULES, zone=PARIS)


def local(*args: int) -> datetime:
    """A wall-clock time in Paris."""
    return datetime(*args, tzinfo=PARIS)  # type: ignore[arg-type,misc]


def working(hours: float) -> SlaConfig:
    """Every priority on ``hours`` working hours."""
    return SlaConfig(rules={p: SlaRule(hours, Calendar.WORKING) for p in P}, zone=PARIS)


def test_the_eleven_french_holidays() -> None:
    assert date(2027, 3, 29) in public_holidays(2027), "Easter Monday 2027"
    days = public_holidays(2026)
    assert len(days) == 11
    assert {
        date(2026, 4, 6),
        date(2026, 5, 14),
        date(2026, 5, 25),
    } <= days  # Easter Mon, Ascension, Whit Mon
    assert date(2026, 11, 11) in days


def test_continuous_runs_through_night_and_weekend() -> None:
    # Critical: 4 h continuous. Friday 23:00 → Saturday 03:00.
    assert due_at(local(2026, 11, 27, 23, 0), P.CRITICAL, CONFIG) == local(2026, 11, 28, 3, 0)
    # High: 24 h continuous from a Saturday noon.
    assert due_at(local(2026, 11, 28, 12), P.HIGH, CONFIG) == local(2026, 11, 29, 12)


def test_continuous_across_dst_counts_real_hours() -> None:
    # 24 real hours across the spring change: 12:00 CET Saturday → 13:00 CEST Sunday.
    created = local(2026, 3, 28, 12)
    due = due_at(created, P.HIGH, CONFIG)
    assert due - created == timedelta(hours=24)
    assert due.astimezone(PARIS).hour == 13
    assert due.tzinfo is UTC


def test_working_within_a_day_and_overnight() -> None:
    config = working(3)
    # Tuesday 09:00 + 3 h.
    assert due_at(local(2026, 11, 24, 9), P.NORMAL, config) == local(2026, 11, 24, 12)
    # Tuesday 17:00: one hour today, two tomorrow from 08:00.
    assert due_at(local(2026, 11, 24, 17), P.NORMAL, config) == local(2026, 11, 25, 10)
    # Created at night (Tuesday 23:30): the clock starts at 08:00.
    assert due_at(local(2026, 11, 24, 23, 30), P.NORMAL, config) == local(2026, 11, 25, 11)
    # Created before opening (Wednesday 05:00).
    assert due_at(local(2026, 11, 25, 5), P.NORMAL, config) == local(2026, 11, 25, 11)


def test_working_skips_the_weekend() -> None:
    config = working(3)
    # Friday 17:00: one hour Friday, the weekend stops the clock, Monday 10:00.
    assert due_at(local(2026, 11, 27, 17), P.NORMAL, config) == local(2026, 11, 30, 10)
    # Created on a Saturday: Monday 08:00 + 3 h.
    assert due_at(local(2026, 11, 28, 10), P.NORMAL, config) == local(2026, 11, 30, 11)


def test_working_skips_a_public_holiday() -> None:
    config = working(3)
    # Tuesday 10 Nov 2026 17:00; Wednesday 11 Nov is Armistice Day.
    assert due_at(local(2026, 11, 10, 17), P.NORMAL, config) == local(2026, 11, 12, 10)
    # Without holidays the same order is due on the 11th.
    plain = SlaConfig(rules=config.rules, zone=PARIS, public_holidays=False)
    assert due_at(local(2026, 11, 10, 17), P.NORMAL, plain) == local(2026, 11, 11, 10)
    # Easter Monday 2026 (6 April) after a weekend: Friday 17:00 → Tuesday 10:00.
    assert due_at(local(2026, 4, 3, 17), P.NORMAL, config) == local(2026, 4, 7, 10)


def test_working_across_dst_changes_keeps_wall_clock_hours() -> None:
    config = working(4)
    # Spring: Friday 27 Mar 2026 17:00 CET (16:00 UTC) → Monday 30 Mar 11:00 CEST (09:00 UTC).
    due = due_at(local(2026, 3, 27, 17), P.NORMAL, config)
    assert due == datetime(2026, 3, 30, 9, tzinfo=UTC)
    # Autumn: Friday 23 Oct 2026 17:00 CEST → Monday 26 Oct 11:00 CET (10:00 UTC).
    due = due_at(local(2026, 10, 23, 17), P.NORMAL, config)
    assert due == datetime(2026, 10, 26, 10, tzinfo=UTC)


def test_default_normal_is_three_working_days() -> None:
    # Monday 08:00 + 30 working hours = Wednesday 18:00.
    assert due_at(local(2026, 11, 23, 8), P.NORMAL, CONFIG) == local(2026, 11, 25, 18)
    # Thursday 12:00: 6 h Thu, 10 h Fri, 10 h Mon, 4 h Tue → Tuesday 12:00.
    assert due_at(local(2026, 11, 26, 12), P.NORMAL, CONFIG) == local(2026, 12, 1, 12)


def test_settings_give_the_config() -> None:
    settings = load_settings(
        sla_critical_hours=2, sla_work_start="07:30", sla_work_end="16:00", sla_work_days=[5, 0]
    )
    config = SlaConfig.from_settings(settings)
    assert config.rules[P.CRITICAL] == SlaRule(2, Calendar.CONTINUOUS)
    assert config.rules[P.NORMAL].calendar is Calendar.WORKING
    assert config.work_days == frozenset({0, 5})
    # Saturday is a working day here: Friday 15:00 + 3 h → 1 h Fri, 2 h Sat from 07:30.
    three = SlaConfig(
        rules={p: SlaRule(3, Calendar.WORKING) for p in P},
        zone=config.zone,
        work_start=config.work_start,
        work_end=config.work_end,
        work_days=frozenset({4, 5}),
    )
    assert due_at(local(2026, 11, 27, 15), P.LOW, three) == local(2026, 11, 28, 9, 30)


def test_settings_refuse_bad_hours() -> None:
    from beffroi.config import ConfigError

    with pytest.raises(ConfigError, match="SLA_WORK_END"):
        load_settings(sla_work_start="18:00", sla_work_end="08:00")
    with pytest.raises(ConfigError, match="weekdays"):
        load_settings(sla_work_days=[7])


def test_naive_time_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        due_at(datetime(2026, 1, 1), P.LOW, CONFIG)  # noqa: DTZ001 - the point of the test


def test_transition_table() -> None:
    # Field moves are exactly start, hold, resume, resolve.
    field = {k for k, v in TRANSITIONS.items() if v is Actor.FIELD}
    assert field == {
        (Status.ASSIGNED, Status.IN_PROGRESS),
        (Status.IN_PROGRESS, Status.ON_HOLD),
        (Status.ON_HOLD, Status.IN_PROGRESS),
        (Status.IN_PROGRESS, Status.RESOLVED),
    }
    # Cancelled from every non-final status; nothing leaves a final one.
    for status in Status:
        if status in FINAL:
            assert next_statuses(status) == []
        else:
            assert allowed(status, Status.CANCELLED) is Actor.MANAGER
    assert allowed(Status.NEW, Status.RESOLVED) is None
    assert allowed(Status.CLOSED, Status.IN_PROGRESS) is None


def test_photo_sniffing() -> None:
    assert photos.sniff(b"\xff\xd8\xff\xe0....") == "image/jpeg"
    assert photos.sniff(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert photos.sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert photos.sniff(b"GIF89a") is None
    with pytest.raises(photos.TooLarge):
        photos.check("image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 2000, 1024)
    with pytest.raises(InvalidInput):
        photos.check("image/gif", b"GIF89a", 1024)
    with pytest.raises(InvalidInput):
        photos.check("image/jpeg", b"\x89PNG\r\n\x1a\n", 1024)
    assert photos.check("image/png; charset=x", b"\x89PNG\r\n\x1a\n", 1024) == "image/png"
