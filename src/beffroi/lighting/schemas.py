"""API shapes of the lighting area (separate from the tables).

Steps and rules are the pure models themselves (:class:`ProgramStep`, :class:`CalendarRule`), so the
API checks them as the services do and names the same fields.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from beffroi.assets.schemas import AssetId, PolygonGeometry
from beffroi.core.dates import Day, Instant
from beffroi.lighting.calendar import CalendarRule
from beffroi.lighting.override import OverrideState, OverrideTarget
from beffroi.lighting.program import MAX_STEPS, ProgramStep, StepKind

Name = Field(min_length=1, max_length=200)
Description = Field(default="", max_length=2000)
Version = Field(ge=1, description="The version you read: the change is refused if it moved on")


class ProgramCreate(BaseModel):
    """A new program. ``commune``: a code or name; none for a metropolis-wide program."""

    model_config = ConfigDict(extra="forbid")

    name: str = Name
    description: str = Description
    commune: str | None = Field(default=None, max_length=200)
    steps: list[ProgramStep] = Field(min_length=1, max_length=MAX_STEPS)


class ProgramUpdate(BaseModel):
    """Changes to a program; omitted fields are kept."""

    model_config = ConfigDict(extra="forbid")

    version: int = Version
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    steps: list[ProgramStep] | None = Field(default=None, min_length=1, max_length=MAX_STEPS)


class ProgramOut(BaseModel):
    """A program."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    commune: str | None = Field(validation_alias="commune_code")
    steps: list[ProgramStep]
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime


class CalendarCreate(BaseModel):
    """A new calendar: rules tried in order, the first that matches a lighting day wins."""

    model_config = ConfigDict(extra="forbid")

    name: str = Name
    description: str = Description
    commune: str | None = Field(default=None, max_length=200)
    rules: list[CalendarRule] = Field(default_factory=list, max_length=100)
    default_program_id: int = Field(ge=1)


class CalendarUpdate(BaseModel):
    """Changes to a calendar; omitted fields are kept."""

    model_config = ConfigDict(extra="forbid")

    version: int = Version
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    rules: list[CalendarRule] | None = Field(default=None, max_length=100)
    default_program_id: int | None = Field(default=None, ge=1)


class CalendarOut(BaseModel):
    """A calendar."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    commune: str | None = Field(validation_alias="commune_code")
    rules: list[CalendarRule]
    default_program_id: int
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime


class TargetKind(StrEnum):
    """What a calendar is assigned to, from the most specific to the least."""

    CABINET = "cabinet"
    GROUP = "group"
    POLYGON = "polygon"
    COMMUNE = "commune"
    DEFAULT = "default"


# Most specific first: a cabinet's own assignment beats its group's, and so on.
PRECEDENCE: tuple[TargetKind, ...] = tuple(TargetKind)


class AssignmentCreate(BaseModel):
    """A calendar given to a target. Name the target its kind asks for: ``cabinet_id``,
    ``group_id``, ``polygon`` (and optionally the ``commune`` it is limited to), or
    ``commune``; the default (the whole metropolis) takes none."""

    model_config = ConfigDict(extra="forbid")

    calendar_id: int = Field(ge=1)
    target: TargetKind
    cabinet_id: AssetId | None = None
    group_id: int | None = Field(default=None, ge=1)
    polygon: PolygonGeometry | None = None
    commune: str | None = Field(default=None, max_length=200)


class AssignmentUpdate(BaseModel):
    """Give the target another calendar, or move a polygon."""

    model_config = ConfigDict(extra="forbid")

    calendar_id: int | None = Field(default=None, ge=1)
    polygon: PolygonGeometry | None = None


class AssignmentOut(BaseModel):
    """An assignment."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    calendar_id: int
    target: TargetKind = Field(validation_alias="target_kind")
    cabinet_id: str | None
    group_id: int | None
    polygon: dict[str, Any] | None
    commune: str | None = Field(validation_alias="commune_code")
    created_by: str
    created_at: datetime
    updated_at: datetime


class StepOnDay(BaseModel):
    """A program's step placed on a lighting day."""

    index: int
    at: datetime
    local_time: str = Field(description="HH:MM in the city's time zone")
    kind: StepKind
    level_pct: float
    ramp_s: int
    presence_level_pct: float | None = None
    hold_s: int | None = None


class OverrideInForce(BaseModel):
    """The override that wins over the program at a moment."""

    id: int
    level_pct: float
    reason: str
    author: str
    starts_at: datetime
    ends_at: datetime


class Why(BaseModel):
    """Why an asset is at the level it is asked for: the assignment that applies to it (or
    its cabinet), the calendar rule that matched the lighting day, the program and its
    steps that day, and the level asked for at ``at``."""

    asset_id: str
    cabinet_id: str | None = Field(description="The cabinet whose controller runs it")
    at: datetime
    lighting_day: date
    assignment: AssignmentOut | None = Field(description="None: no calendar applies")
    calendar: CalendarOut | None
    rule_index: int | None = Field(description="The rule that matched; None: the default")
    rule: CalendarRule | None
    program: ProgramOut | None
    steps: list[StepOnDay]
    sunset: datetime
    sunrise: datetime
    level_pct: float | None = Field(description="What the program asks for at ``at``")
    override: OverrideInForce | None = Field(
        default=None, description="The override in force at ``at``: it wins over the program"
    )
    effective_level_pct: float | None = Field(
        default=None, description="What the light is asked for: the override's, else the program's"
    )
    explanation: str


class ScheduleSummary(BaseModel):
    """A cabinet's compiled schedule: which version, of what content, since when; and where
    it stands with the cabinet's controller (the version sent, the version in force)."""

    model_config = ConfigDict(from_attributes=True)

    cabinet_id: str
    version: int
    content_hash: str
    compiled_at: datetime
    delivered_version: int | None = Field(
        default=None, description="The version last sent to the controller; None: never sent"
    )
    delivered_at: datetime | None = None
    acked_version: int | None = Field(
        default=None,
        description="The version the controller acknowledged, hence runs; None: none yet",
    )
    acked_at: datetime | None = None
    behind: bool = Field(
        default=True, description="The controller runs an older version than the compiled one"
    )


class ScheduleOut(ScheduleSummary):
    """A cabinet's compiled schedule, with the document its controller receives."""

    document: dict[str, Any]


class CompileResult(BaseModel):
    """What a compilation changed."""

    changed: list[str] = Field(description="Cabinets whose schedule version moved")


Reason = Field(min_length=1, max_length=500, description="Why: required, kept in the audit log")


class OverrideCreate(BaseModel):
    """A level imposed for a while on a selection of lights, winning over the programs.

    Name the target its kind asks for: ``asset_ids`` (lights and cabinets), ``group_id``,
    ``polygon`` (and optionally the ``commune`` it is limited to), or ``commune``; the
    metropolis takes none. ``starts_at`` defaults to now; ``ends_at`` is required (at
    most 7 days later): an override always ends by itself.
    """

    model_config = ConfigDict(extra="forbid")

    target: OverrideTarget
    asset_ids: list[AssetId] | None = Field(default=None, min_length=1, max_length=5000)
    group_id: int | None = Field(default=None, ge=1)
    polygon: PolygonGeometry | None = None
    commune: str | None = Field(default=None, max_length=200)
    level_pct: float = Field(ge=0, le=100, allow_inf_nan=False)
    starts_at: Instant | None = None
    ends_at: Instant
    reason: str = Reason


class OverrideDecision(BaseModel):
    """An approval, a refusal (its reason required) or a cancellation."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500)


class OverrideOut(BaseModel):
    """An override, with its state now."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    target: OverrideTarget = Field(validation_alias="target_kind")
    asset_ids: list[str] | None
    group_id: int | None
    polygon: dict[str, Any] | None
    commune: str | None = Field(validation_alias="commune_code")
    level_pct: float
    starts_at: datetime
    ends_at: datetime
    reason: str
    author: str = Field(validation_alias="created_by")
    critical: bool
    state: OverrideState
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    cancelled_by: str | None
    cancelled_at: datetime | None


class PreviewRequest(BaseModel):
    """Steps to preview (saved or not) on one lighting day, at the city's centre or at a
    commune's position."""

    model_config = ConfigDict(extra="forbid")

    steps: list[ProgramStep] = Field(min_length=1, max_length=MAX_STEPS)
    day: Day | None = Field(
        default=None, description="The lighting day (its evening's date); default today's"
    )
    commune: str | None = Field(
        default=None, max_length=200, description="Code or name; default the city's centre"
    )
    every_min: int = Field(default=5, ge=1, le=60, description="Minutes between points")


class PreviewPoint(BaseModel):
    """The level asked for at one moment."""

    at: datetime
    local_time: str = Field(description="HH:MM in the city's time zone")
    level_pct: float


class TimingError(BaseModel):
    """Something wrong with the steps' timing on the day previewed."""

    field: str
    message: str


class ProgramPreview(BaseModel):
    """A program's level through one lighting day (noon ``start`` to noon ``end``): a
    point every few minutes and at each step's start and ramp end, the day's sunset and
    the next sunrise, and the timing errors of that day (empty: the day runs in order)."""

    day: date
    commune: str | None
    start: datetime
    end: datetime
    sunset: datetime
    sunrise: datetime
    steps: list[StepOnDay]
    points: list[PreviewPoint]
    errors: list[TimingError]


class CalendarDay(BaseModel):
    """The program a calendar runs on one lighting day, and the rule that chose it."""

    day: date
    program_id: int
    rule_index: int | None = Field(description="None: no rule matched, the default runs")


class CalendarDays(BaseModel):
    """A calendar over a stretch of lighting days."""

    calendar_id: int
    version: int
    days: list[CalendarDay]
