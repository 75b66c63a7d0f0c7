"""API schemas of the traffic area (separate from the tables)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from beffroi.core.dates import Instant
from beffroi.traffic.config import GroupKind

Name = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_.-]+$")]
ControllerId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
PlanNumber = Annotated[int, Field(ge=1, le=255)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignalGroupIn(_In):
    """A signal group: its name (``K1``), what it controls, its minimum green."""

    name: Name
    kind: GroupKind = GroupKind.VEHICLE
    min_green_s: Annotated[int, Field(ge=1, le=60)] = 6


class DetectorIn(_In):
    """A detector and the signal group whose approach it serves."""

    name: Name
    group: Name | None = None


class StageIn(_In):
    """A stage: the signal groups green together."""

    name: Name
    groups: list[Name] = Field(max_length=64)


class IntergreenIn(_In):
    """From the end of ``from_``'s green to the start of ``to``'s: at least ``seconds``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: Name = Field(alias="from")
    to: Name
    seconds: Annotated[int, Field(ge=0, le=30)]


class ConfigIn(_In):
    """A controller's configuration; ``version``: the one read (absent for the first)."""

    groups: list[SignalGroupIn] = Field(min_length=1, max_length=64)
    detectors: list[DetectorIn] = Field(default_factory=list, max_length=64)
    stages: list[StageIn] = Field(min_length=1, max_length=32)
    intergreens: list[IntergreenIn] = Field(default_factory=list, max_length=4096)
    version: Annotated[int, Field(ge=1)] | None = None


class ConfigOut(BaseModel):
    """A controller's configuration as stored."""

    controller_id: str
    groups: list[dict[str, Any]]
    detectors: list[dict[str, Any]]
    stages: list[dict[str, Any]]
    intergreens: list[dict[str, Any]]
    version: int
    updated_by: str
    updated_at: datetime


class StageSplitIn(_In):
    """One step of a plan: a stage and its split (green and the change to the next)."""

    stage: Name
    split_s: Annotated[int, Field(ge=1, le=300)]


class PlanIn(_In):
    """A timing plan; ``version``: the one read, when changing one."""

    number: PlanNumber
    name: Annotated[str, Field(max_length=200)] = ""
    cycle_s: Annotated[int, Field(ge=1, le=600)]
    offset_s: Annotated[int, Field(ge=0, le=600)] = 0
    stages: list[StageSplitIn] = Field(min_length=1, max_length=32)
    version: Annotated[int, Field(ge=1)] | None = None


class PlanOut(BaseModel):
    """A stored (valid) timing plan."""

    controller_id: str
    number: int
    name: str
    cycle_s: int
    offset_s: int
    stages: list[dict[str, Any]]
    version: int
    updated_by: str
    updated_at: datetime


class PlanProblem(BaseModel):
    """One rule a plan breaks: which, where, and why (stage, groups, seconds)."""

    rule: str
    field: str
    message: str


class PlanCheck(BaseModel):
    """What the plan validator says of a plan (saved or not): the plan editor's errors."""

    valid: bool
    problems: list[PlanProblem]


class SwitchPointIn(_In):
    """From ``start`` (local HH:MM) on ``days`` (ISO weekdays, Monday 1), run ``plan``."""

    days: list[Annotated[int, Field(ge=1, le=7)]] = Field(min_length=1, max_length=7)
    start: time
    plan: PlanNumber


class TimetableIn(_In):
    """A controller's timetable: its switch points."""

    entries: list[SwitchPointIn] = Field(min_length=1, max_length=200)


class TimetableOut(BaseModel):
    """A controller's timetable, its version, and where its delivery stands."""

    controller_id: str
    entries: list[dict[str, Any]]
    version: int
    delivered_version: int | None
    acked_version: int | None
    acked_at: datetime | None
    behind: bool
    plan_now: int | None
    next_switch_at: datetime | None
    next_plan: int | None


class ManualPlanIn(_In):
    """Impose ``plan`` on the controller until ``ends_at`` (at most a week ahead)."""

    plan: PlanNumber
    ends_at: Instant
    reason: Reason


class ManualPlanOut(BaseModel):
    """A plan imposed by hand, and whether it still runs."""

    id: int
    controller_id: str
    plan: int
    starts_at: datetime
    ends_at: datetime
    reason: str
    command_id: str | None
    created_by: str
    ended_at: datetime | None
    ended_by: str | None
    active: bool


class CorridorMemberIn(_In):
    """An intersection of a corridor; ``distance_m``: measured from the previous one
    (absent: the geodesic distance between the controllers' positions)."""

    controller_id: ControllerId
    distance_m: Annotated[float, Field(gt=0, le=20_000)] | None = None


class CorridorIn(_In):
    """A green wave: intersections in driving order, design speed, common cycle, the plan
    number the controllers run it with; ``version``: the one read, when changing one."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    members: list[CorridorMemberIn] = Field(min_length=2, max_length=50)
    speed_kmh: Annotated[float, Field(ge=10, le=90)]
    cycle_s: Annotated[int, Field(ge=20, le=300)]
    plan: PlanNumber
    version: Annotated[int, Field(ge=1)] | None = None


class CorridorOffset(BaseModel):
    """An intersection of a corridor with its computed offset."""

    controller_id: str
    name: str
    distance_m: float
    travel_s: float
    offset_s: int


class CorridorOut(BaseModel):
    """A corridor with its offsets as computed now."""

    id: int
    name: str
    commune_code: str | None
    speed_kmh: float
    cycle_s: int
    plan: int
    version: int
    offsets: list[CorridorOffset]
    applied_batch_id: str | None
    applied_at: datetime | None
    updated_by: str
    updated_at: datetime


class CorridorApply(_In):
    """Why the corridor's offsets are applied now."""

    reason: Reason


class ControllerSummary(BaseModel):
    """A controller as the traffic views list it."""

    controller_id: str
    name: str
    commune: str
    configured: bool
    plans: list[int]
    timetable_version: int | None
    behind: bool
    manual_plan: int | None
