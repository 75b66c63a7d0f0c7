"""API shapes of the video area, separate from the tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from beffroi.assets.schemas import AssetId
from beffroi.core.dates import Instant
from beffroi.video.lifecycle import HoldState

Reason = Field(min_length=1, max_length=2000)
Text200 = Field(min_length=1, max_length=200)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HabilitationCreate(_In):
    """An agent designated by an authority, for cameras or communes, for a period."""

    username: str = Field(min_length=1, max_length=64)
    authority: str = Text200
    reference: str = Field(min_length=1, max_length=100)
    communes: list[str] = Field(default_factory=list, max_length=100, description="Codes or names")
    cameras: list[AssetId] = Field(default_factory=list, max_length=500)
    valid_from: Instant
    valid_until: Instant


class Revocation(_In):
    """Why a habilitation ends early."""

    reason: str = Reason


class HabilitationOut(BaseModel):
    """A habilitation; ``active``: in force now."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    username: str
    authority: str
    reference: str
    communes: list[str]
    cameras: list[str]
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None
    created_by: str
    created_at: datetime
    active: bool


class SessionCreate(_In):
    """Open a view session: the cameras, a reason from the list, and words of one's own."""

    cameras: list[AssetId] = Field(min_length=1, max_length=16)
    reason: str = Field(min_length=1, max_length=200, description="One of GET /video/reasons")
    reason_text: str | None = Field(default=None, max_length=2000)
    profile: str = Field(default="main", pattern=r"^[A-Za-z0-9_-]{1,64}$")


class Stream(BaseModel):
    """One camera of a session and where to play it (a signed URL, until ``expires_at``)."""

    camera_id: str
    name: str
    url: str | None
    expires_at: datetime | None


class SessionOut(BaseModel):
    """A view session; ``streams`` only while it is open, and only to its agent."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    agent: str
    cameras: list[str]
    reason: str
    reason_text: str | None
    profile: str
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    ended_because: str | None
    open: bool
    streams: list[Stream] = Field(default_factory=list)


class SessionCommand(_In):
    """A steering command to one camera of the session (ONVIF vocabulary: goto_preset,
    set_preset, ptz_move, ptz_stop, start_tour, stop_tour, recording)."""

    camera_id: AssetId
    name: str = Field(min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)


class ExtractionCreate(_In):
    """Export a period of a camera's footage, for a requisition."""

    camera_id: AssetId
    start: Instant
    end: Instant
    reason: str = Reason


class ExtractionOut(BaseModel):
    """An export made by the VMS."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    export_id: str
    camera_id: str
    period_start: datetime
    period_end: datetime
    reason: str
    created_by: str
    created_at: datetime


class TransmissionCreate(_In):
    """An extraction handed over on a requisition by the police or the justice."""

    extraction_id: int = Field(ge=1, le=2**31 - 1)
    requester: str = Text200
    reference: str = Text200
    recipient: str = Text200
    medium: str = Text200
    reason: str | None = Field(default=None, max_length=2000)


class RetentionSet(_In):
    """A camera's authorised retention period (at most 30 days)."""

    days: int = Field(ge=1, le=30)
    authorisation: str = Text200


class RetentionOut(BaseModel):
    """A camera's retention: its own period, or the default."""

    camera_id: str
    days: int
    authorisation: str | None
    default: bool


class HoldCreate(_In):
    """Ask for a legal hold: cameras, a period, the judicial reference."""

    cameras: list[AssetId] = Field(min_length=1, max_length=500)
    period_start: Instant
    period_end: Instant
    reference: str = Text200
    reason: str = Reason


class HoldDecision(_In):
    """A decision on a hold (approve, refuse, ask to lift); a reason where required."""

    reason: str | None = Field(default=None, max_length=2000)


class HoldOut(BaseModel):
    """A legal hold and where it stands."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    cameras: list[str]
    period_start: datetime
    period_end: datetime
    reference: str
    reason: str
    state: HoldState
    requested_by: str
    requested_at: datetime
    placed_by: str | None
    placed_at: datetime | None
    lift_requested_by: str | None
    lift_requested_at: datetime | None
    lift_reason: str | None
    lifted_by: str | None
    lifted_at: datetime | None
    refused_by: str | None
    refused_at: datetime | None


Point = list[float]


class MaskSet(_In):
    """Privacy masks of a camera for one preset (0: every view): polygons of points
    ``[x, y]`` in image coordinates, 0..1 from the top left."""

    polygons: list[list[list[float]]] = Field(max_length=32)


class MaskOut(BaseModel):
    """The privacy masks of a camera and preset."""

    model_config = ConfigDict(from_attributes=True)

    camera_id: str
    preset: int
    polygons: list[list[list[float]]]
    set_by: str
    set_at: datetime


class EntryOut(BaseModel):
    """A register entry."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    ts: datetime
    kind: str
    camera_id: str | None
    commune: str | None = Field(validation_alias="commune_code")
    agent: str
    reason: str | None
    outcome: str
    session_id: int | None
    details: dict[str, Any]


class EntryPage(BaseModel):
    """A page of register entries, newest first; ``next_before``: the next page's ``before``."""

    items: list[EntryOut]
    next_before: int | None


class RegisterCheck(BaseModel):
    """The register's verification."""

    ok: bool
    checked: int
    problems: list[str]
