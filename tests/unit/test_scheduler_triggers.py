"""Due times of the scheduler's triggers, and what a job declaration refuses."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from beffroi.scheduler import Cron, Every, Job, daily
from beffroi.scheduler.job import check_unique
from beffroi.scheduler.registry import JOBS

PARIS = ZoneInfo("Europe/Paris")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


async def _nothing(_ctx: object) -> None:
    return None


def test_every_counts_from_the_epoch_whenever_asked() -> None:
    hourly = Every(3600)
    assert hourly.latest_at(at("2026-05-01T10:20:00+00:00"), PARIS) == at("2026-05-01T10:00Z")
    assert hourly.latest_at(at("2026-05-01T10:00:00+00:00"), PARIS) == at("2026-05-01T10:00Z")
    assert hourly.next_after(at("2026-05-01T10:00:00+00:00"), PARIS) == at("2026-05-01T11:00Z")
    shifted = Every(600, offset_s=30)
    assert shifted.next_after(at("2026-05-01T10:00:00+00:00"), PARIS) == at("2026-05-01T10:00:30Z")
    assert Every(0.25).next_after(at("2026-05-01T10:00:00.1+00:00"), PARIS) == at(
        "2026-05-01T10:00:00.25+00:00"
    )


def test_daily_follows_the_local_clock_through_daylight_saving() -> None:
    midnight = daily("00:00")
    # Summer time: local midnight is 22:00 UTC; winter time: 23:00 UTC.
    assert midnight.next_after(at("2026-03-28T12:00Z"), PARIS) == at("2026-03-28T23:00Z")
    assert midnight.next_after(at("2026-03-29T12:00Z"), PARIS) == at("2026-03-29T22:00Z")
    assert midnight.latest_at(at("2026-03-29T22:00Z"), PARIS) == at("2026-03-29T22:00Z")
    assert midnight.latest_at(at("2026-03-29T21:59Z"), PARIS) == at("2026-03-28T23:00Z")


def test_a_time_in_the_repeated_autumn_hour_runs_once_and_the_skipped_one_just_after() -> None:
    half_past_two = daily(time(2, 30))
    start = at("2026-10-24T12:00Z")
    first = half_past_two.next_after(start, PARIS)
    second = half_past_two.next_after(first, PARIS)
    assert first == at("2026-10-25T02:30+02:00")
    assert second == at("2026-10-26T02:30+01:00")
    spring = half_past_two.next_after(at("2026-03-28T12:00Z"), PARIS)
    assert spring == at("2026-03-29T03:00+02:00")


def test_a_trigger_may_name_its_own_time_zone() -> None:
    utc_midnight = Cron("0 0 * * *", timezone="UTC")
    assert utc_midnight.next_after(at("2026-05-01T12:00Z"), PARIS) == at("2026-05-02T00:00Z")
    assert "UTC" in utc_midnight.describe()


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: Cron("61 * * * *"), "bad cron expression"),
        (lambda: Cron("* * *"), "bad cron expression"),
        (lambda: Cron("0 0 * * *", timezone="Mars/Olympus"), "unknown time zone"),
        (lambda: daily("24:00"), "HH:MM"),
        (lambda: daily(time(1, 2, 3)), "to the minute"),
        (lambda: Every(0), "at least 1 ms"),
        (lambda: Every(float("nan")), "at least 1 ms"),
        (lambda: Every(60, offset_s=60), "offset"),
        (lambda: Job("Bad Name", _nothing, Every(1)), "job name"),
        (lambda: Job("ok", _nothing, Every(1), misfire_grace_s=0), "misfire_grace_s"),
        (lambda: Job("ok", _nothing, Every(1), misfire_grace_s=5, jitter_s=5), "jitter_s"),
    ],
)
def test_bad_declarations_are_refused_naming_what_is_wrong(make: object, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        make()  # type: ignore[operator]


def test_two_jobs_may_not_share_a_name() -> None:
    job = Job("lighting.calendars", _nothing, daily("00:00"))
    with pytest.raises(ValueError, match=r"two scheduled jobs are named 'lighting\.calendars'"):
        check_unique([job, job])


def test_the_registry_declares_the_telemetry_maintenance() -> None:
    names = [job.name for job in JOBS]
    assert "telemetry.maintenance" in names
    assert len(set(names)) == len(names)
