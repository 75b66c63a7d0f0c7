"""A controller's timetable, as a pure model: at which local times, on which days of the
week, which plan starts (RSMP "time plan" / NTCIP 1202 "time base" day plans).

A timetable is a list of switch points ``(days, start, plan)``; the plan in force at a
local moment is that of the last switch point at or before it, looking back through the
week (so Monday 00:00 keeps Sunday evening's plan unless a point says otherwise). Times
are wall-clock times in the controller's time zone: a switch at 07:00 happens at 07:00
local on the day the clocks change too, and a point inside the hour skipped in spring
applies at the end of the gap.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from beffroi.core.errors import FieldError

DAYS = (1, 2, 3, 4, 5, 6, 7)  # ISO weekdays, Monday = 1
MAX_POINTS = 200


@dataclass(frozen=True, slots=True)
class SwitchPoint:
    """From ``start`` (local time) on each of ``days`` (ISO weekdays), run ``plan``."""

    days: tuple[int, ...]
    start: time
    plan: int


def check_timetable(points: Sequence[SwitchPoint], plans: Collection[int]) -> list[FieldError]:
    """Everything wrong with a timetable whose controller has the valid ``plans``."""
    errors: list[FieldError] = []
    if not points:
        errors.append(FieldError("entries", "a timetable has at least one switch point"))
    if len(points) > MAX_POINTS:
        errors.append(FieldError("entries", f"at most {MAX_POINTS} switch points"))
    seen: dict[tuple[int, time], int] = {}
    for index, point in enumerate(points):
        if not point.days or any(d not in DAYS for d in point.days):
            errors.append(FieldError(f"entries[{index}].days", "days are ISO weekdays 1 to 7"))
        if point.plan not in plans:
            errors.append(
                FieldError(
                    f"entries[{index}].plan", f"no valid plan {point.plan} on this controller"
                )
            )
        if point.start.second or point.start.microsecond or point.start.tzinfo:
            errors.append(FieldError(f"entries[{index}].start", "a start is a local HH:MM"))
        for day in set(point.days):
            other = seen.setdefault((day, point.start), index)
            if other != index:
                errors.append(
                    FieldError(
                        f"entries[{index}].start",
                        f"day {day} at {point.start:%H:%M} is already switched by entry {other}",
                    )
                )
    return errors


def _minutes(day: int, at: time) -> int:
    return (day - 1) * 1440 + at.hour * 60 + at.minute


def plan_at(points: Sequence[SwitchPoint], local: datetime) -> int:
    """The plan in force at the naive or aware local wall-clock moment ``local``."""
    now = _minutes(local.isoweekday(), local.time())
    best: tuple[int, int] | None = None  # (minutes back from now, plan)
    for point in points:
        for day in point.days:
            back = (now - _minutes(day, point.start)) % (7 * 1440)
            if best is None or back < best[0]:
                best = (back, point.plan)
    if best is None:
        raise ValueError("an empty timetable runs no plan")
    return best[1]


def next_switch(
    points: Sequence[SwitchPoint], after: datetime, zone: ZoneInfo
) -> tuple[datetime, int] | None:
    """The first instant strictly after the aware ``after`` when the plan in force changes,
    and the plan then; ``None`` when one plan runs all week."""
    if len({p.plan for p in points}) < 2:
        return None
    local = after.astimezone(zone)
    current = plan_at(points, local.replace(tzinfo=None))
    starts = sorted({(d, p.start) for p in points for d in p.days}, key=lambda x: _minutes(*x))
    for week in range(2):
        for day_offset in range(8):
            date = (local + timedelta(days=day_offset + 7 * week)).date()
            for day, start in starts:
                if day != date.isoweekday():
                    continue
                at = _resolve(datetime.combine(date, start), zone)
                if at <= after:
                    continue
                plan = plan_at(points, datetime.combine(date, start))
                if plan != current:
                    return at, plan
    return None


def _resolve(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant of local wall time ``wall``: the first of two in the autumn's repeated
    hour, the end of the gap for one skipped in spring."""
    aware = wall.replace(tzinfo=zone, fold=0)
    back = aware.astimezone(ZoneInfo("UTC")).astimezone(zone)
    if back.replace(tzinfo=None) != wall:  # skipped: it does not exist on that day
        gap_end = (wall + timedelta(hours=1)).replace(tzinfo=zone, fold=1)
        return gap_end.astimezone(ZoneInfo("UTC")).replace(minute=0, second=0)
    return aware.astimezone(ZoneInfo("UTC"))
