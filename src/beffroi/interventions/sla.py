"""Service levels: when an intervention is due, from its priority.

Each priority has a duration and a calendar:

- ``continuous``: the clock runs 24/7; the due time is creation + duration in real
  (UTC) time, so a DST change neither adds nor removes an hour of service.
- ``working``: the clock runs only in working hours of the city's time zone – by default
  Monday to Friday, 08:00 to 18:00 wall-clock time – and stops on French public holidays.
  A duration of 30 working hours is three working days.

Defaults (see ``sla_*`` settings): critical 4 h continuous, high 24 h continuous,
normal 30 working hours (3 working days), low 100 working hours (10 working days).

The due time is fixed when the intervention is created (or its priority changes): time
spent ``on_hold`` does **not** pause the clock. Holds mostly wait on things the city
owes (a part, a road closure), and the service level measures the wait a resident sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from beffroi.core.time import public_holidays
from beffroi.interventions.lifecycle import Priority

if TYPE_CHECKING:
    from beffroi.config import Settings


class Calendar(StrEnum):
    """When the service clock runs."""

    CONTINUOUS = "continuous"
    WORKING = "working"


@dataclass(frozen=True, slots=True)
class SlaRule:
    """The service level of one priority."""

    hours: float
    calendar: Calendar


@dataclass(frozen=True, slots=True)
class SlaConfig:
    """Service levels per priority and the working calendar of the city."""

    rules: dict[Priority, SlaRule]
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Paris"))
    work_start: time = time(8, 0)
    work_end: time = time(18, 0)
    # ISO weekdays off Monday=0; Monday to Friday by default.
    work_days: frozenset[int] = frozenset(range(5))
    public_holidays: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> SlaConfig:
        """The configuration given by the ``sla_*`` settings."""
        return cls(
            rules={
                Priority.CRITICAL: SlaRule(
                    settings.sla_critical_hours, Calendar(settings.sla_critical_calendar)
                ),
                Priority.HIGH: SlaRule(
                    settings.sla_high_hours, Calendar(settings.sla_high_calendar)
                ),
                Priority.NORMAL: SlaRule(
                    settings.sla_normal_hours, Calendar(settings.sla_normal_calendar)
                ),
                Priority.LOW: SlaRule(settings.sla_low_hours, Calendar(settings.sla_low_calendar)),
            },
            zone=settings.zone,
            work_start=time.fromisoformat(settings.sla_work_start),
            work_end=time.fromisoformat(settings.sla_work_end),
            work_days=frozenset(settings.sla_work_days),
            public_holidays=settings.sla_public_holidays,
        )


DEFAULT_RULES = {
    Priority.CRITICAL: SlaRule(4, Calendar.CONTINUOUS),
    Priority.HIGH: SlaRule(24, Calendar.CONTINUOUS),
    Priority.NORMAL: SlaRule(30, Calendar.WORKING),
    Priority.LOW: SlaRule(100, Calendar.WORKING),
}


def is_working_day(day: date, config: SlaConfig) -> bool:
    """Whether the service clock runs at all on ``day`` (local date)."""
    if day.weekday() not in config.work_days:
        return False
    return not (config.public_holidays and day in public_holidays(day.year))


# Longer than any sane service level: a configuration with no working day at all must not
# loop for ever.
MAX_DAYS = 3660


def due_at(created_at: datetime, priority: Priority, config: SlaConfig) -> datetime:
    """When an intervention of ``priority`` created at ``created_at`` is due (UTC)."""
    if created_at.tzinfo is None:
        raise ValueError("created_at must carry its UTC offset")
    rule = config.rules[priority]
    remaining = timedelta(hours=rule.hours)
    start = created_at.astimezone(UTC)
    if rule.calendar is Calendar.CONTINUOUS:
        return start + remaining
    local_day = start.astimezone(config.zone).date()
    for _ in range(MAX_DAYS):
        if is_working_day(local_day, config):
            # Wall-clock opening hours of that day, as instants: a DST night shifts them
            # in UTC, never in local time.
            opens = datetime.combine(local_day, config.work_start, config.zone).astimezone(UTC)
            closes = datetime.combine(local_day, config.work_end, config.zone).astimezone(UTC)
            cursor = max(start, opens)
            if cursor < closes:
                available = closes - cursor
                if remaining <= available:
                    return cursor + remaining
                remaining -= available
        local_day += timedelta(days=1)
    raise ValueError("the working calendar has no working time within ten years")
