"""API shapes of the crisis plans (tables are in :mod:`models`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from beffroi.commands.schemas import CommandName, Target
from beffroi.notifications.states import Channel
from beffroi.plans.lifecycle import (
    MAX_ITEMS,
    MAX_RECIPIENTS,
    MAX_STEPS,
    AlertLevel,
    PlanKind,
    PlanStepKind,
    RunState,
    StepState,
)

Title = Annotated[str, Field(min_length=1, max_length=200)]
CommuneRef = Annotated[str, Field(min_length=1, max_length=100)]
Communes = Annotated[
    list[CommuneRef] | None,
    Field(max_length=100, description="Codes or names; none: the whole metropolis"),
]


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    min_level: AlertLevel = Field(
        default=AlertLevel.WATCH, description="Skipped in a run started at a lower level"
    )


class CommandStep(_Step):
    """A group command over a selection of assets (as ``POST /commands/batches`` takes it):
    each target gets its command, its lifecycle, its verification."""

    kind: Literal[PlanStepKind.COMMAND]
    type: Annotated[str, Field(min_length=1, max_length=64)]
    name: CommandName
    params: dict[str, Any] = Field(default_factory=dict)
    target: Target


class ChecklistStep(_Step):
    """Things people do and tick, each recorded with who and when."""

    kind: Literal[PlanStepKind.CHECKLIST]
    items: list[Title] = Field(min_length=1, max_length=MAX_ITEMS)


class NotifyStep(_Step):
    """A message to every recipient of a notification list."""

    kind: Literal[PlanStepKind.NOTIFY]
    list_id: int = Field(ge=1, le=2**31 - 1)
    message: str = Field(min_length=1, max_length=1000)


StepSpec = Annotated[
    CommandStep | ChecklistStep | NotifyStep,
    Field(discriminator="kind", description="A step, one shape per kind"),
]


class CrisisPlanCreate(BaseModel):
    """A new plan: its ordered steps."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100)]
    kind: PlanKind
    description: str = Field(default="", max_length=2000)
    communes: Communes = None
    steps: list[StepSpec] = Field(min_length=1, max_length=MAX_STEPS)


class CrisisPlanOut(BaseModel):
    """A plan."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: PlanKind
    description: str
    communes: list[str] | None
    steps: list[StepSpec]
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class Recipient(BaseModel):
    """One person to tell: an e-mail address, or the SMS gateway's webhook URL."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100)]
    channel: Channel
    target: Annotated[str, Field(min_length=3, max_length=500)]


class NotifyListCreate(BaseModel):
    """A new notification list."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100)]
    communes: Communes = None
    recipients: list[Recipient] = Field(min_length=1, max_length=MAX_RECIPIENTS)


class NotifyListOut(BaseModel):
    """A notification list."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    communes: list[str] | None
    recipients: list[Recipient]
    created_at: datetime
    created_by: str


class RunStart(BaseModel):
    """Start a plan at a level; a second person approves before anything is done."""

    model_config = ConfigDict(extra="forbid")

    level: AlertLevel
    reason: str = Field(min_length=1, max_length=500)


class RunDecision(BaseModel):
    """An approval, a refusal or a closing, with its reason."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, min_length=1, max_length=500)


class ItemOut(BaseModel):
    """A checklist item and who ticked it, when."""

    text: str
    done_by: str | None = None
    done_at: datetime | None = None


class RunStepOut(BaseModel):
    """A step of a run and where it stands."""

    position: int
    title: str
    kind: PlanStepKind
    min_level: int
    state: StepState
    batch_id: str | None
    delivery_ids: list[int]
    items: list[ItemOut]
    outcome: str | None
    started_at: datetime | None
    finished_at: datetime | None
    finished_by: str | None


class RunOut(BaseModel):
    """A run of a plan with its steps."""

    id: int
    plan_id: int
    plan_name: str
    kind: PlanKind
    communes: list[str] | None
    level: int
    state: RunState
    reason: str
    started_at: datetime
    started_by: str
    decided_at: datetime | None
    decided_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    steps: list[RunStepOut]


class RunEventOut(BaseModel):
    """A line of a run's timeline."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    kind: str
    position: int | None
    detail: dict[str, Any]


class ReportCommands(BaseModel):
    """A command step's batch and how its commands ended (count by state)."""

    position: int
    title: str
    batch_id: str
    type: str
    name: str
    total: int
    states: dict[str, int]


class ReportIntervention(BaseModel):
    """A work order opened in the run's communes while it ran."""

    id: int
    title: str
    commune: str
    status: str
    created_at: datetime
    resolved_at: datetime | None


class ReportEnergy(BaseModel):
    """Lighting energy and cost of one commune over the run's days (local days)."""

    commune: str
    energy_wh: float
    cost_eur: float


class RunReport(BaseModel):
    """The post-event report of a run."""

    run: RunOut
    since: datetime
    until: datetime
    timeline: list[RunEventOut]
    commands: list[ReportCommands]
    interventions: list[ReportIntervention]
    energy: list[ReportEnergy]
