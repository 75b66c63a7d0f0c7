"""API shapes of the mobility area (separate from the tables)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from beffroi.assets.schemas import AssetId

DIRECTION = r"^[A-Za-z0-9 _-]+$"
# A transit line as GTFS names it (route_id), as short as the controller's command takes.
LineId = Annotated[
    str, StringConstraints(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9._:-]+$")
]
Direction = Field(
    min_length=1,
    max_length=32,
    pattern=DIRECTION,
    description="The direction the controller's priority_request names (north, inbound...)",
)
Coordinates = Field(
    min_length=1,
    max_length=100,
    description="[lon, lat] points: the path ending at the stop line (line), or the stop "
    "line alone (sector)",
)


def _check_geometry(
    shape: str, coordinates: list[list[float]], bearing: float | None
) -> list[list[float]]:
    for i, point in enumerate(coordinates):
        if len(point) != 2 or not all(math.isfinite(c) for c in point):
            raise ValueError(f"coordinates[{i}] must be [lon, lat]")
        if not (-180 <= point[0] <= 180 and -90 <= point[1] <= 90):
            raise ValueError(f"coordinates[{i}] is outside WGS84 longitude/latitude")
    if shape == "line" and len(coordinates) < 2:
        raise ValueError("a line approach needs at least two points, the last at the stop line")
    if shape == "sector" and len(coordinates) != 1:
        raise ValueError("a sector approach is one point, the stop line")
    if shape == "line" and bearing is not None:
        raise ValueError("bearing_deg is for sectors: a line's direction is its own")
    return coordinates


class ApproachCreate(BaseModel):
    """A new approach of a controller with bus priority."""

    model_config = ConfigDict(extra="forbid")

    controller_id: AssetId
    name: str = Field(min_length=1, max_length=200)
    direction: str = Direction
    lines: list[LineId] = Field(
        default_factory=list, max_length=100, description="GTFS route ids; empty: every line"
    )
    shape: Literal["line", "sector"]
    coordinates: list[list[float]] = Coordinates
    radius_m: float = Field(
        ge=5, le=2000, description="Sector: reach from the stop line; line: corridor half-width"
    )
    bearing_deg: float | None = Field(
        default=None, ge=0, le=360, description="Sector: direction of travel to the stop line"
    )
    tolerance_deg: float = Field(default=45, ge=5, le=90)

    @model_validator(mode="after")
    def _geometry(self) -> Self:
        _check_geometry(self.shape, self.coordinates, self.bearing_deg)
        return self


class ApproachUpdate(BaseModel):
    """Changes to an approach; omitted fields are kept. Geometry is changed as a whole."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, description="The version you read")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    direction: str | None = Field(default=None, min_length=1, max_length=32, pattern=DIRECTION)
    lines: list[LineId] | None = Field(default=None, max_length=100)
    shape: Literal["line", "sector"] | None = None
    coordinates: list[list[float]] | None = Field(default=None, min_length=1, max_length=100)
    radius_m: float | None = Field(default=None, ge=5, le=2000)
    bearing_deg: float | None = Field(default=None, ge=0, le=360)
    tolerance_deg: float | None = Field(default=None, ge=5, le=90)

    @model_validator(mode="after")
    def _geometry(self) -> Self:
        if (self.shape is None) != (self.coordinates is None):
            raise ValueError("shape and coordinates are changed together")
        if self.shape is not None and self.coordinates is not None:
            _check_geometry(self.shape, self.coordinates, self.bearing_deg)
        return self


class ApproachOut(BaseModel):
    """An approach."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    controller_id: str
    commune: str = Field(validation_alias="commune_code")
    name: str
    direction: str
    lines: list[str]
    shape: str
    coordinates: list[list[float]]
    radius_m: float
    bearing_deg: float | None
    tolerance_deg: float
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime


class PriorityRequestOut(BaseModel):
    """A bus priority request and its outcome."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    approach_id: int
    controller_id: str
    commune: str = Field(validation_alias="commune_code")
    vehicle_id: str
    line: str
    direction: str
    distance_m: float
    observed_at: datetime
    requested_at: datetime
    command_id: str | None
    outcome: str
    finished_at: datetime | None
    delay_saved_s: float | None


class DelaySaved(BaseModel):
    """Priority requests and the delay they saved, for one line at one intersection."""

    controller_id: str
    line: str
    requests: int
    granted: int
    not_granted: int
    open: int
    delay_saved_s: float


class CountOut(BaseModel):
    """Traffic on one lane over one 6-minute or hourly period."""

    model_config = ConfigDict(from_attributes=True)

    asset_id: str
    lane: int
    period_min: int
    bucket: datetime
    commune: str = Field(validation_alias="commune_code")
    vehicles: int
    flow_vph: float
    occupancy_pct: float | None
    speed_kmh: float | None
    samples: int
