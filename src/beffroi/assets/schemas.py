"""API shapes of assets and groups (separate from the tables)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field

from beffroi.assets.lifecycle import AssetStatus
from beffroi.assets.models import ASSET_ID_PATTERN, GroupKind
from beffroi.core.dates import Day

AssetId = Annotated[str, Field(pattern=ASSET_ID_PATTERN, description="1-64 of [A-Za-z0-9._-]")]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]


def _tags(value: list[str]) -> list[str]:
    return sorted({t.strip() for t in value if t.strip()})


Tags = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=50)]],
    Field(max_length=32),
    AfterValidator(_tags),
]


class Point(BaseModel):
    """A GeoJSON Point in WGS84, coordinates in (lon, lat) order."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Point"] = "Point"
    coordinates: tuple[Longitude, Latitude]


class AssetCreate(BaseModel):
    """A new asset. ``commune`` accepts a commune code or name."""

    model_config = ConfigDict(extra="forbid")

    id: AssetId
    type: str = Field(max_length=40)
    name: str = Field(min_length=1, max_length=200)
    commune: str = Field(min_length=1, max_length=200)
    location: Point
    parent_id: AssetId | None = None
    status: AssetStatus = AssetStatus.IN_SERVICE
    attributes: dict[str, Any] = Field(default_factory=dict)
    manufacturer: str | None = Field(default=None, max_length=100)
    model: str | None = Field(default=None, max_length=100)
    installed_on: Day | None = None
    tags: Tags = Field(default_factory=list)


class AssetUpdate(BaseModel):
    """Changes to an asset; omitted fields are kept. Type and id never change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    commune: str | None = Field(default=None, min_length=1, max_length=200)
    location: Point | None = None
    parent_id: AssetId | None = None
    clear_parent: bool = False
    status: AssetStatus | None = None
    attributes: dict[str, Any] | None = None
    manufacturer: str | None = Field(default=None, max_length=100)
    model: str | None = Field(default=None, max_length=100)
    installed_on: Day | None = None
    tags: Tags | None = None
    version: int | None = Field(default=None, description="Refuse the change if it moved on")


class Decommission(BaseModel):
    """Retire an asset for good."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)


class AssetOut(BaseModel):
    """An asset as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    type: str
    name: str
    commune: str = Field(validation_alias=AliasChoices("commune", "commune_code"))
    location: Point
    parent_id: str | None
    status: AssetStatus
    attributes: dict[str, Any]
    manufacturer: str | None
    model: str | None
    installed_on: date | None
    tags: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class AssetPage(BaseModel):
    """One page of assets; pass ``next_cursor`` back as ``cursor`` for the next."""

    items: list[AssetOut]
    next_cursor: str | None


class PolygonGeometry(BaseModel):
    """A GeoJSON Polygon or MultiPolygon, WGS84."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any]


class GroupCreate(BaseModel):
    """A new group: by list of asset ids, or every asset inside a polygon."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    commune: str | None = Field(default=None, description="Null: metropolis-wide group")
    kind: GroupKind
    asset_ids: list[AssetId] = Field(default_factory=list, max_length=100_000)
    polygon: PolygonGeometry | None = None


class GroupUpdate(BaseModel):
    """Changes to a group."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    add: list[AssetId] = Field(default_factory=list, max_length=100_000)
    remove: list[AssetId] = Field(default_factory=list, max_length=100_000)
    polygon: PolygonGeometry | None = None


class GroupOut(BaseModel):
    """A group as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    commune: str | None = Field(validation_alias=AliasChoices("commune", "commune_code"))
    kind: GroupKind
    polygon: dict[str, Any] | None
    member_count: int
    created_by: str
    created_at: datetime
    updated_at: datetime


class ImportReport(BaseModel):
    """What an import did, or would have done, and each bad row and field."""

    created: int
    updated: int
    skipped: int
    errors: list[dict[str, Any]]
