"""API shapes of alarms (separate from the tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from beffroi.alarms.lifecycle import AlarmState
from beffroi.catalogue import Severity

Text = Field(min_length=1, max_length=2000)
# A row's detail may hold JSON null: shown as no detail.
Detail = Annotated[dict[str, Any], BeforeValidator(lambda value: {} if value is None else value)]


class AlarmOut(BaseModel):
    """An alarm as the list and the console show it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    asset_id: str
    asset_type: str
    commune: str = Field(validation_alias=AliasChoices("commune", "commune_code"))
    domain: str
    alarm_type: str
    source: str
    severity: Severity
    state: AlarmState
    raised_at: datetime
    last_seen_at: datetime
    occurrences: int
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    cleared_at: datetime | None
    cleared_by: str | None
    clear_reason: str | None
    assigned_to: str | None
    shelved: bool
    shelved_until: datetime | None
    shelved_by: str | None
    shelve_reason: str | None
    # The root-cause alarm this one is grouped under, and how many it groups itself.
    parent_id: int | None
    children: int
    rule_id: int | None
    detail: Detail


class AlarmPage(BaseModel):
    """One page of alarms, newest first; pass ``next_cursor`` back as ``cursor``."""

    items: list[AlarmOut]
    next_cursor: str | None


class HistoryOut(BaseModel):
    """One line of an alarm's history."""

    model_config = ConfigDict(from_attributes=True)

    ts: datetime
    action: str
    actor: str
    actor_kind: str
    state: AlarmState
    detail: Detail


class AlarmDetail(AlarmOut):
    """An alarm with its whole history."""

    history: list[HistoryOut]


class Note(BaseModel):
    """A comment, optional on an acknowledgement."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(default=None, min_length=1, max_length=2000)


class Comment(BaseModel):
    """A comment on an alarm."""

    model_config = ConfigDict(extra="forbid")
    text: str = Text


class ClearRequest(BaseModel):
    """An operator clearing an alarm says why."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=500)


class ShelveRequest(BaseModel):
    """Hide an alarm from the list for a time, with a reason."""

    model_config = ConfigDict(extra="forbid")
    minutes: int = Field(ge=1, le=7 * 24 * 60)
    reason: str = Field(min_length=3, max_length=500)


class AssignRequest(BaseModel):
    """Who handles the alarm: a user's login, or ``null`` to unassign."""

    model_config = ConfigDict(extra="forbid")
    user: str | None = Field(default=None, min_length=1, max_length=200)


class Summary(BaseModel):
    """Counts of the alarms on the list, for a banner: by severity and by state."""

    by_severity: dict[str, int]
    by_state: dict[str, int]
    unacknowledged: int
    shelved: int
