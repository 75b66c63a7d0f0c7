"""API shapes of the roads area, separate from the tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from beffroi.assets.schemas import AssetId
from beffroi.core.dates import Instant
from beffroi.roads.situation import IncidentKind, SituationType, Status

Version = Field(ge=1, description="The version you read: the change is refused if it moved on")


class GeoJSON(BaseModel):
    """A GeoJSON geometry, WGS84 in (lon, lat) order; its shape is checked by the service."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["LineString", "MultiLineString", "Polygon", "MultiPolygon"]
    coordinates: list[Any] = Field(max_length=5000)


class LineJSON(BaseModel):
    """A GeoJSON line (a detour), WGS84 in (lon, lat) order."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["LineString", "MultiLineString"]
    coordinates: list[Any] = Field(max_length=5000)


class Impact(BaseModel):
    """What the situation does to traffic."""

    model_config = ConfigDict(extra="forbid")

    road_closed: bool = False
    lanes_closed: int | None = Field(default=None, ge=1, le=12)
    speed_limit_kmh: int | None = Field(default=None, ge=5, le=130)
    delay_min: int | None = Field(default=None, ge=1, le=1440)


class SituationCreate(BaseModel):
    """New works, closure, event or incident."""

    model_config = ConfigDict(extra="forbid")

    type: SituationType
    incident_kind: IncidentKind | None = Field(default=None, description="Incidents only")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    road: str = Field(default="", max_length=200, description="The road's name, for signs")
    geometry: GeoJSON
    detour: LineJSON | None = None
    starts_at: Instant | None = Field(default=None, description="Default: now")
    ends_at: Instant | None = Field(default=None, description="Unknown yet: incidents only")
    impact: Impact = Field(default_factory=Impact)


class SituationUpdate(BaseModel):
    """Changes to a planned or active situation, naming the version read."""

    model_config = ConfigDict(extra="forbid")

    version: int = Version
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    road: str | None = Field(default=None, max_length=200)
    geometry: GeoJSON | None = None
    detour: LineJSON | None = None
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    impact: Impact | None = None


class SituationClose(BaseModel):
    """Why a situation is ended now or cancelled."""

    model_config = ConfigDict(extra="forbid")

    version: int = Version
    reason: str = Field(min_length=1, max_length=500)


class SituationOut(BaseModel):
    """A road situation."""

    id: int
    type: SituationType
    incident_kind: IncidentKind | None
    title: str
    description: str
    road: str
    geometry: dict[str, Any]
    detour: dict[str, Any] | None
    starts_at: datetime
    ends_at: datetime | None
    status: Status
    impact: Impact
    communes: list[str]
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    closed_by: str | None
    closed_at: datetime | None
    close_reason: str | None


class SignProposal(BaseModel):
    """A message sign near a situation and the text proposed for it."""

    asset_id: str
    name: str
    commune: str
    distance_m: float
    lines: int
    width_chars: int
    proposed: list[str] = Field(description="The proposed lines")
    showing: str | None = Field(description="What the sign shows for this situation, if it does")


class SignPosting(BaseModel):
    """A sign that shows, or showed, a situation."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    asset_id: str
    text: str
    display_command_id: str
    posted_by: str
    posted_at: datetime
    clear_command_id: str | None
    cleared_by: str | None
    cleared_at: datetime | None


class SignsOut(BaseModel):
    """The signs of a situation: those proposed (an open situation), those showing it,
    and those to clear (the situation is over and they still show it)."""

    proposals: list[SignProposal]
    postings: list[SignPosting]
    to_clear: list[str]


class SignText(BaseModel):
    """One sign and the text to show on it (lines separated by newlines)."""

    model_config = ConfigDict(extra="forbid")

    asset_id: AssetId
    text: str = Field(min_length=1, max_length=512)


class SignsConfirm(BaseModel):
    """The operator's confirmation: show these texts on these signs."""

    model_config = ConfigDict(extra="forbid")

    signs: list[SignText] = Field(min_length=1, max_length=50)


class SignsClear(BaseModel):
    """The operator's confirmation: clear these signs (default: all still showing it)."""

    model_config = ConfigDict(extra="forbid")

    asset_ids: list[AssetId] | None = Field(default=None, max_length=50)


class SignsSent(BaseModel):
    """The commands sent."""

    commands: list[str]
    postings: list[SignPosting]


class LifecycleResult(BaseModel):
    """Situations the clock moved."""

    activated: list[int]
    ended: list[int]
