"""API shapes of monitoring rules, separate from the tables."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from beffroi.catalogue import Severity
from beffroi.rules.conditions import RuleKind

# The alarm type defaults to "rule:<key>", which must fit an alarm type (64 characters).
RuleKey = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,58}$", description="Unique slug")]
AlarmType = Annotated[str, Field(pattern=r"^[A-Za-z0-9:._-]{1,64}$")]
CommuneRef = Annotated[str, Field(min_length=1, max_length=100)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class RuleCreate(BaseModel):
    """A new monitoring rule. ``params`` depend on ``kind``:

    - ``threshold``: ``key``, ``op`` (``>`` or ``<``), ``value``, ``clear_value`` (on the
      safe side of ``value``: hysteresis), ``for_s`` (minimum duration, default 0);
    - ``no_data``: ``key`` (omitted or null: any key), ``minutes``;
    - ``state_mismatch``: ``key``, ``op``, ``value`` (the wrong state), ``when``
      (``daylight`` or ``night``), ``margin_min`` around sunrise and sunset, ``for_s``;
    - ``rate_of_change``: ``key``, ``max_delta`` per ``per_s`` seconds.
    """

    model_config = ConfigDict(extra="forbid")

    key: RuleKey
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: RuleKind
    asset_type: Annotated[str, Field(min_length=1, max_length=64)]
    communes: list[CommuneRef] | None = Field(
        default=None, max_length=100, description="Communes it applies to; null: all"
    )
    params: dict[str, Any]
    alarm_type: AlarmType | None = Field(default=None, description='Default "rule:<key>"')
    severity: Severity = Severity.MAJOR
    enabled: bool = True
    reason: Reason | None = None


class RuleUpdate(RuleCreate):
    """A whole new definition of a rule, naming the version it replaces."""

    version: int = Field(ge=1, description="The version being edited; a stale one is refused")


class RuleAction(BaseModel):
    """Enable a rule again (after an error), optionally naming the version seen."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(default=None, ge=1)
    reason: Reason | None = None


class RuleOut(BaseModel):
    """A monitoring rule as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    name: str
    kind: RuleKind
    asset_type: str
    communes: list[str] | None
    params: dict[str, Any]
    alarm_type: str
    severity: Severity
    enabled: bool
    error: str | None
    errored_at: datetime | None
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class RuleVersionOut(BaseModel):
    """One saved version of a rule."""

    model_config = ConfigDict(from_attributes=True)

    version: int
    definition: dict[str, Any]
    changed_by: str
    changed_at: datetime
