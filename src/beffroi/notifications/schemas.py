"""API shapes of notification routes and deliveries, separate from the tables."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from beffroi.alarms.lifecycle import Action
from beffroi.catalogue import Domain, Severity
from beffroi.notifications.matching import ALL_DAYS, DEFAULT_ACTIONS
from beffroi.notifications.states import Channel, DeliveryState

RouteName = Annotated[str, Field(min_length=1, max_length=100)]
AlarmType = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
CommuneRef = Annotated[str, Field(min_length=1, max_length=100)]
Weekday = Annotated[int, Field(ge=1, le=7, description="ISO weekday, Monday = 1")]
LocalTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["22:00"])]
Target = Annotated[
    str | list[Annotated[str, Field(max_length=254)]],
    Field(description="webhook: an http(s) URL; email: a list of addresses"),
]


class _RouteFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    severities: list[Severity] = Field(
        default_factory=list, max_length=4, description="Any if empty"
    )
    alarm_types: list[AlarmType] = Field(
        default_factory=list, max_length=200, description="Any if empty"
    )
    communes: list[CommuneRef] | None = Field(
        default=None, max_length=100, description="Codes or names; null: every commune"
    )
    domains: list[Domain] = Field(default_factory=list, max_length=10, description="Any if empty")
    actions: list[Action] = Field(
        default_factory=lambda: [Action(a) for a in DEFAULT_ACTIONS],
        min_length=1,
        max_length=20,
        description="History actions that notify",
    )
    days: list[Weekday] = Field(default_factory=lambda: list(ALL_DAYS), min_length=1, max_length=7)
    time_from: LocalTime | None = Field(
        default=None, description="Local start of the daily window (the city's time zone)"
    )
    time_to: LocalTime | None = Field(
        default=None, description="Local end (exclusive); before time_from: across midnight"
    )
    escalation_only: bool = Field(default=False, description="Only escalations notify")


class RouteCreate(_RouteFields):
    """A new notification route."""

    name: RouteName
    channel: Channel
    target: Target


class RouteUpdate(BaseModel):
    """Changes to a route; fields left out keep their value. ``version`` must be current."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, description="The version you read; refused if it moved on")
    name: RouteName | None = None
    enabled: bool | None = None
    channel: Channel | None = None
    target: Target | None = None
    severities: list[Severity] | None = Field(default=None, max_length=4)
    alarm_types: list[AlarmType] | None = Field(default=None, max_length=200)
    communes: list[CommuneRef] | None = Field(
        default=None, max_length=100, description="null (given): every commune"
    )
    domains: list[Domain] | None = Field(default=None, max_length=10)
    actions: list[Action] | None = Field(default=None, min_length=1, max_length=20)
    days: list[Weekday] | None = Field(default=None, min_length=1, max_length=7)
    time_from: LocalTime | None = None
    time_to: LocalTime | None = None
    escalation_only: bool | None = None


class RouteOut(BaseModel):
    """A notification route."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    enabled: bool
    channel: Channel
    target: Any
    severities: list[str]
    alarm_types: list[str]
    communes: list[str] | None
    domains: list[str]
    actions: list[str]
    days: list[int]
    time_from: str | None
    time_to: str | None
    escalation_only: bool
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class DeliveryOut(BaseModel):
    """One notification and what became of it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    route_id: int | None
    route_name: str
    history_id: int | None
    alarm_id: int | None
    commune: str | None = Field(validation_alias=AliasChoices("commune", "commune_code"))
    action: str
    channel: Channel
    target: Any
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    payload: dict[str, Any]
    created_at: datetime
    sent_at: datetime | None
