"""Which routes an alarm history entry goes to, the cursor's holes, backoff and wording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from beffroi.alarms import feed as cursor
from beffroi.alarms.feed import Hole
from beffroi.config import load_settings
from beffroi.notifications.delivery import MAX_DELAY, retry_delay
from beffroi.notifications.matching import Entry, Filter, in_window, matches
from beffroi.notifications.messages import headline

PARIS = ZoneInfo("Europe/Paris")
# Friday 27 November 2026, local time.
FRI = datetime(2026, 11, 27, tzinfo=PARIS)


def entry(**overrides: object) -> Entry:
    values: dict[str, object] = {
        "action": "raised",
        "severity": "critical",
        "alarm_type": "supplyLoss",
        "commune": "talant",
        "domain": "lighting",
        "ts": FRI.replace(hour=12).astimezone(UTC),
    }
    return Entry(**(values | overrides))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (FRI.replace(hour=22), True),  # the window opens (inclusive)
        (FRI.replace(hour=23, minute=30), True),
        (FRI + timedelta(days=1, hours=3), True),  # Saturday 03:00: Friday's night
        (FRI + timedelta(days=1, hours=5, minutes=59), True),
        (FRI + timedelta(days=1, hours=6), False),  # the end is exclusive
        (FRI.replace(hour=3), False),  # Friday 03:00 is Thursday's night
        (FRI.replace(hour=21, minute=59), False),
        (FRI + timedelta(days=1, hours=22), False),  # Saturday evening: not a listed day
    ],
)
def test_window_across_midnight_belongs_to_the_day_it_starts(
    local: datetime, expected: bool
) -> None:
    assert in_window([5], "22:00", "06:00", local) is expected


def test_window_within_a_day_and_whole_days() -> None:
    assert in_window([1, 2, 3, 4, 5], "08:00", "18:00", FRI.replace(hour=8))
    assert not in_window([1, 2, 3, 4, 5], "08:00", "18:00", FRI.replace(hour=18))
    assert not in_window([1, 2, 3, 4, 5], "08:00", "18:00", FRI + timedelta(days=1, hours=9))
    assert in_window([5], None, None, FRI.replace(hour=23, minute=59))
    assert not in_window([5], None, None, FRI + timedelta(days=1))


def test_window_is_judged_in_the_city_time_zone() -> None:
    # 21:30 UTC on a winter Friday is 22:30 in Paris: inside a 22:00–06:00 window.
    route = Filter(days=[5], time_from="22:00", time_to="06:00")
    late = datetime(2026, 11, 27, 21, 30, tzinfo=UTC)
    assert matches(route, entry(ts=late), PARIS)
    assert not matches(route, entry(ts=late - timedelta(hours=1)), PARIS)


def test_every_filter_narrows() -> None:
    assert matches(Filter(), entry(), PARIS)
    assert not matches(Filter(severities=["major"]), entry(), PARIS)
    assert matches(Filter(severities=["major", "critical"]), entry(), PARIS)
    assert not matches(Filter(alarm_types=["lampFailure"]), entry(), PARIS)
    assert not matches(Filter(communes=["dijon"]), entry(), PARIS)
    assert matches(Filter(communes=["dijon", "talant"]), entry(), PARIS)
    assert not matches(Filter(domains=["traffic"]), entry(), PARIS)
    assert not matches(Filter(), entry(action="acknowledged"), PARIS)
    assert matches(Filter(actions=["acknowledged"]), entry(action="acknowledged"), PARIS)


def test_escalation_route_takes_only_escalations() -> None:
    route = Filter(escalation_only=True, actions=["raised", "cleared"])
    assert not matches(route, entry(action="raised"), PARIS)
    assert matches(route, entry(action="escalated"), PARIS)


NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def test_cursor_moves_past_what_it_saw_and_remembers_the_holes() -> None:
    last, holes = cursor.advance(0, [], [1, 2, 3], NOW)
    assert (last, holes) == (3, [])
    last, holes = cursor.advance(3, [], [4, 7, 9], NOW)
    assert last == 9
    assert holes == [Hole(5, 6, NOW), Hole(8, 8, NOW)]
    # 6 commits late: routed, and only 5 and 8 are still awaited.
    later = NOW + timedelta(seconds=5)
    last, holes = cursor.advance(9, holes, [6], later)
    assert last == 9
    assert holes == [Hole(5, 5, NOW), Hole(8, 8, NOW)]
    # Past the grace period, the holes are taken for rollbacks and forgotten.
    last, holes = cursor.advance(9, holes, [], NOW + cursor.HOLE_GRACE)
    assert (last, holes) == (9, [])


def test_cursor_keeps_a_bounded_number_of_holes() -> None:
    seen = list(range(1, 2 * cursor.MAX_HOLES + 50, 2))  # every other id is missing
    _last, holes = cursor.advance(0, [], seen, NOW)
    assert len(holes) == cursor.MAX_HOLES
    assert Hole.from_json(holes[0].as_json()) == holes[0]


def test_retry_delay_doubles_up_to_a_bound() -> None:
    settings = load_settings(notification_retry_base_s=30)
    assert [retry_delay(settings, n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(settings, 40) == MAX_DELAY


def test_headline() -> None:
    assert (
        headline("critical", "supplyLoss", "LC-TAL-0001", "Talant", "raised")
        == "[CRITICAL] supplyLoss on LC-TAL-0001 (Talant) — raised"
    )
    assert headline("major", "lampFailure", "SL-1", "Dijon", "escalated", "15 min").endswith(
        "— escalated: 15 min"
    )
