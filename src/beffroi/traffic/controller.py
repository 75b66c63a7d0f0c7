"""What a traffic controller does with the timetable document the hub delivers: reads
it, and runs it by itself in its own time zone (the simulator's controllers use this,
as a real controller's bridge would)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from beffroi.core.errors import FieldError, InvalidInput
from beffroi.traffic.timetable import SwitchPoint, next_switch, plan_at


@dataclass(frozen=True, slots=True)
class PlanTiming:
    """What a controller needs of a plan to run it: cycle, offset, stage splits."""

    number: int
    cycle_s: int
    offset_s: int
    splits: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class RunningTimetable:
    """A delivered timetable, as the controller runs it."""

    version: int
    zone: ZoneInfo
    points: tuple[SwitchPoint, ...]
    plans: Mapping[int, PlanTiming]

    def plan_at(self, moment: datetime) -> int:
        """The plan in force at the aware instant ``moment``, in the controller's zone."""
        return plan_at(self.points, moment.astimezone(self.zone).replace(tzinfo=None))

    def next_change(self, moment: datetime) -> datetime | None:
        """When the plan in force next changes after ``moment`` (``None``: never)."""
        upcoming = next_switch(self.points, moment, self.zone)
        return None if upcoming is None else upcoming[0]


def read_timetable(document: Mapping[str, Any]) -> RunningTimetable:
    """The timetable a document describes; :class:`InvalidInput` when it is not one."""
    try:
        points = tuple(
            SwitchPoint(
                tuple(int(d) for d in e["days"]),
                time.fromisoformat(e["start"]),
                int(e["plan"]),
            )
            for e in document["entries"]
        )
        plans = {
            int(p["number"]): PlanTiming(
                int(p["number"]),
                int(p["cycle_s"]),
                int(p["offset_s"]),
                tuple((s["stage"], int(s["split_s"])) for s in p["stages"]),
            )
            for p in document["plans"]
        }
        version = int(document["version"])
        zone = ZoneInfo(str(document["timezone"]))
    except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError) as exc:
        raise InvalidInput(FieldError("timetable", f"not a timetable document: {exc}")) from exc
    if not points or version < 1 or any(p.plan not in plans for p in points):
        raise InvalidInput(FieldError("timetable", "entries name plans the document lacks"))
    return RunningTimetable(version, zone, points, plans)
