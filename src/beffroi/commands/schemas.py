"""API shapes of remote commands, separate from the tables."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from beffroi.assets.lifecycle import AssetStatus
from beffroi.assets.schemas import AssetId, PolygonGeometry
from beffroi.commands.lifecycle import BatchState, CommandState, Verification

Reason = Annotated[str, Field(min_length=1, max_length=2000)]
CommandName = Annotated[str, Field(min_length=1, max_length=64)]
CommandId = Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,32}$")]


class _Timing(BaseModel):
    timeout_s: int | None = Field(
        default=None, description="Seconds to wait for the device's reply; type default if null"
    )
    expires_in_s: int | None = Field(
        default=None, description="Seconds after which the command is not carried out any more"
    )


class CommandCreate(_Timing):
    """A command to one asset."""

    model_config = ConfigDict(extra="forbid")

    asset_id: AssetId
    name: CommandName
    params: dict[str, Any] = Field(default_factory=dict)
    reason: Reason | None = None


class _Target(BaseModel):
    # A field of another kind is refused rather than ignored: a caller naming a commune in
    # a list of ids would otherwise command assets it did not mean to.
    model_config = ConfigDict(extra="forbid")


class IdsTarget(_Target):
    """The assets named one by one."""

    kind: Literal["ids"]
    asset_ids: list[AssetId] = Field(min_length=1, max_length=200_000)


class GroupTarget(_Target):
    """The members of a saved group."""

    kind: Literal["group"]
    group_id: int = Field(ge=1, le=2**31 - 1)


class CabinetTarget(_Target):
    """The lights a lighting cabinet feeds."""

    kind: Literal["cabinet"]
    cabinet_id: AssetId


class CommuneTarget(_Target):
    """Every asset of the type in one commune (code or name)."""

    kind: Literal["commune"]
    commune: str = Field(min_length=1, max_length=100)


class PolygonTarget(_Target):
    """Every asset of the type inside a polygon."""

    kind: Literal["polygon"]
    polygon: PolygonGeometry


class FilterTarget(_Target):
    """The asset list's filters; none means every asset of the type in scope."""

    kind: Literal["filter"]
    communes: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=100
    )
    statuses: list[AssetStatus] = Field(default_factory=list, max_length=10)
    parent_id: AssetId | None = None
    bbox: str | None = Field(default=None, max_length=200)
    q: str | None = Field(default=None, min_length=1, max_length=200)


# The targets of a group command: one shape per kind, chosen by ``kind``, so a target
# missing what its kind needs is refused naming the field (``target.commune.commune``).
Target = Annotated[
    IdsTarget | GroupTarget | CabinetTarget | CommuneTarget | PolygonTarget | FilterTarget,
    Field(discriminator="kind", description="The targets of a group command, one shape per kind"),
]


class BatchCreate(_Timing):
    """One command to many assets of one type."""

    model_config = ConfigDict(extra="forbid")

    type: Annotated[str, Field(min_length=1, max_length=64)]
    name: CommandName
    params: dict[str, Any] = Field(default_factory=dict)
    target: Target
    reason: Reason | None = None


class Decision(BaseModel):
    """An approval, a refusal or a cancellation, with its reason."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason | None = None


class TransitionOut(BaseModel):
    """One move of a command."""

    state: str
    at: datetime
    actor: str
    actor_kind: str
    detail: dict[str, Any] | None


class CommandOut(BaseModel):
    """A command as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    batch_id: str | None
    asset_id: str
    asset_type: str
    # A row's commune_code (or a shape's own commune, as a detail is built from it).
    commune: str = Field(validation_alias=AliasChoices("commune_code", "commune"))
    name: str
    params: dict[str, Any]
    critical: bool
    reason: str | None
    state: CommandState
    verification: Verification
    attempts: int
    max_attempts: int
    timeout_s: int
    created_at: datetime
    created_by: str
    approval_expires_at: datetime | None
    approved_by: str | None
    expires_at: datetime
    sent_at: datetime | None
    replied_at: datetime | None
    finished_at: datetime | None
    verified_at: datetime | None
    result: dict[str, Any] | None


class CommandDetail(CommandOut):
    """A command with every transition."""

    transitions: list[TransitionOut]


class CommandPage(BaseModel):
    """One page of commands, newest first; pass ``next_cursor`` back as ``cursor``."""

    items: list[CommandOut]
    next_cursor: str | None


class BatchOut(BaseModel):
    """A group command and its live progress."""

    id: str
    name: str
    type: str
    params: dict[str, Any]
    target: dict[str, Any]
    communes: list[str]
    total: int
    critical: bool
    reason: str | None
    state: BatchState
    created_at: datetime
    created_by: str
    approval_expires_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    retry_of: str | None
    counts: dict[str, int] = Field(description="Children per state")
    verification: dict[str, int] = Field(description="Children per verification outcome")
