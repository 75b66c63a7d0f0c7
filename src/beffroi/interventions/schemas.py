"""API shapes of teams, interventions, policies and KPIs (separate from the tables)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from beffroi.assets.schemas import AssetId, Point
from beffroi.catalogue import Severity
from beffroi.interventions.lifecycle import Category, Priority, Source, Status

Reason = Annotated[str, Field(min_length=1, max_length=2000)]
IdRef = Annotated[int, Field(ge=1, le=2**31 - 1)]
AlarmRef = Annotated[int, Field(ge=1, le=2**63 - 1)]
CommuneRef = Annotated[str, Field(min_length=1, max_length=200)]


# --- teams ---------------------------------------------------------------------------------


class TeamCreate(BaseModel):
    """A new team. ``communes`` accepts commune codes or names."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    categories: list[Category] = Field(min_length=1, max_length=len(Category))
    communes: list[CommuneRef] = Field(min_length=1, max_length=200)


class TeamUpdate(BaseModel):
    """Changes to a team; omitted fields are kept."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    categories: list[Category] | None = Field(default=None, min_length=1, max_length=len(Category))
    communes: list[CommuneRef] | None = Field(default=None, min_length=1, max_length=200)


class MemberAdd(BaseModel):
    """A person joining a team."""

    model_config = ConfigDict(extra="forbid")

    user_id: IdRef


class MemberOut(BaseModel):
    """A member of a team."""

    user_id: int
    username: str
    display_name: str


class TeamOut(BaseModel):
    """A team and its members."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    categories: list[Category]
    communes: list[str]
    members: list[MemberOut]
    created_at: datetime
    updated_at: datetime


# --- interventions -------------------------------------------------------------------------


class InterventionCreate(BaseModel):
    """A work order opened by hand. With ``asset_id`` the commune is the asset's (and
    ``commune`` may be omitted); else ``commune`` is required. A team may be given at once."""

    model_config = ConfigDict(extra="forbid")

    category: Category
    priority: Priority = Priority.NORMAL
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    commune: CommuneRef | None = None
    asset_id: AssetId | None = None
    location: Point | None = None
    team_id: IdRef | None = None
    assignee_id: IdRef | None = None
    alarm_ids: list[AlarmRef] = Field(default_factory=list, max_length=500)
    asset_ids: list[AssetId] = Field(default_factory=list, max_length=500)


class InterventionUpdate(BaseModel):
    """Changes to open work; omitted fields are kept, none may be null. A new priority
    recomputes the due time from the creation time."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    priority: Priority | None = None
    reason: Reason | None = None


class Assignment(BaseModel):
    """Hand the work to a team, optionally to one of its members."""

    model_config = ConfigDict(extra="forbid")

    team_id: IdRef
    assignee_id: IdRef | None = None
    reason: Reason | None = None


class StatusChange(BaseModel):
    """Move an intervention to another status. ``clear_alarms`` (to ``resolved`` only):
    clear the linked alarms once the asset's state confirms the repair."""

    model_config = ConfigDict(extra="forbid")

    status: Status
    reason: Reason | None = None
    note: str | None = Field(default=None, min_length=1, max_length=10_000)
    clear_alarms: bool = False


class NoteCreate(BaseModel):
    """A note on an intervention."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=10_000)


class Links(BaseModel):
    """Alarms and assets to link to an intervention."""

    model_config = ConfigDict(extra="forbid")

    alarm_ids: list[AlarmRef] = Field(default_factory=list, max_length=500)
    asset_ids: list[AssetId] = Field(default_factory=list, max_length=500)


class InterventionOut(BaseModel):
    """An intervention."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    category: Category
    priority: Priority
    title: str
    description: str
    # A row's commune_code (or a shape's own commune, as a detail is built from it).
    commune: str = Field(validation_alias=AliasChoices("commune_code", "commune"))
    asset_id: str | None
    location: Point | None
    team_id: int | None
    assignee_id: int | None
    status: Status
    source: Source
    created_at: datetime
    created_by: str
    due_at: datetime
    overdue: bool
    started_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    clear_alarms_pending: bool
    updated_at: datetime
    next_statuses: list[Status]


class NoteOut(BaseModel):
    """A note."""

    id: int
    text: str
    at: datetime
    author: str


class PhotoOut(BaseModel):
    """A photo's description; its bytes are at ``url``."""

    id: int
    content_type: str
    size: int
    sha256: str
    at: datetime
    author: str
    url: str


class HistoryOut(BaseModel):
    """One change of an intervention."""

    at: datetime
    actor: str
    actor_kind: str
    action: str
    from_status: Status | None
    to_status: Status | None
    detail: dict[str, Any]


class InterventionDetail(InterventionOut):
    """An intervention with what is attached to it."""

    alarm_ids: list[int]
    asset_ids: list[str]
    notes: list[NoteOut]
    photos: list[PhotoOut]
    history: list[HistoryOut]


class InterventionPage(BaseModel):
    """A page of interventions; pass ``next_cursor`` back for the next page."""

    items: list[InterventionOut]
    next_cursor: str | None


class QueueItem(BaseModel):
    """An intervention as a phone lists it: the least needed to choose the next job."""

    id: int
    title: str
    priority: Priority
    status: Status
    category: Category
    commune: str
    due_at: datetime
    overdue: bool
    asset_id: str | None
    # (lon, lat), from the intervention or its asset.
    at: tuple[float, float] | None
    mine: bool


# --- policies ------------------------------------------------------------------------------


class PolicyCreate(BaseModel):
    """When an alarm of ``alarm_type`` at least as severe as ``min_severity`` opens a work
    order on its own: its category, priority and (optionally) team."""

    model_config = ConfigDict(extra="forbid")

    alarm_type: str = Field(min_length=1, max_length=64)
    min_severity: Severity = Severity.MAJOR
    category: Category
    priority: Priority
    team_id: IdRef | None = None
    enabled: bool = True


class PolicyUpdate(BaseModel):
    """Changes to a policy; omitted fields are kept (``team_id`` null: choose by coverage)."""

    model_config = ConfigDict(extra="forbid")

    min_severity: Severity | None = None
    category: Category | None = None
    priority: Priority | None = None
    team_id: IdRef | None = None
    enabled: bool | None = None


class PolicyOut(BaseModel):
    """An intervention policy."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    alarm_type: str
    min_severity: Severity
    category: Category
    priority: Priority
    team_id: int | None
    enabled: bool
    created_at: datetime
    updated_at: datetime


# --- KPIs ----------------------------------------------------------------------------------


class KpiGrouping(StrEnum):
    """How KPIs are broken down."""

    CATEGORY = "category"
    COMMUNE = "commune"
    TEAM = "team"


class KpiFigures(BaseModel):
    """Figures of one group (or of everything) over the period. Means are in seconds,
    ``null`` when nothing was measured."""

    key: str | None = Field(description="Category, commune code or team id; null: none")
    interventions_created: int
    interventions_resolved: int
    interventions_cancelled: int
    mean_time_to_repair_s: float | None = Field(
        description="Interventions resolved in the period: resolved_at - created_at"
    )
    sla_due: int = Field(description="Interventions due in the period (up to now), not cancelled")
    sla_met: int = Field(description="Of those, resolved by their due time")
    sla_compliance: float | None = Field(description="sla_met / sla_due")
    open_overdue: int = Field(description="Open interventions past their due time now")
    alarms_raised: int
    alarms_acknowledged: int
    mean_time_to_acknowledge_s: float | None = Field(
        description="Alarms acknowledged in the period: acknowledged_at - raised_at"
    )
    alarms_cleared: int
    alarm_mean_time_to_repair_s: float | None = Field(
        description="Alarms cleared in the period: cleared_at - raised_at"
    )


class KpiReport(BaseModel):
    """KPIs over ``[from, to)``, in the caller's scope."""

    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime
    by: KpiGrouping | None
    total: KpiFigures
    groups: list[KpiFigures]
