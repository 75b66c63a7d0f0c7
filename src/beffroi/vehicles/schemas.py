"""API shapes of the vehicles area."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_ROUTE_VERTICES = 5000


class VehiclePosition(BaseModel):
    """A vehicle where it last reported being (WGS84)."""

    model_config = ConfigDict(from_attributes=True)

    asset_id: str
    name: str
    commune: str
    kind: str
    team_id: int | None
    ts: datetime
    lon: float
    lat: float
    speed_kmh: float | None
    heading_deg: float | None
    # Reported within BEFFROI_VEHICLES_FRESH_S.
    fresh: bool


class VehicleList(BaseModel):
    """The vehicles of the caller's communes that ever reported a position."""

    items: list[VehiclePosition]


class TrackGeometry(BaseModel):
    """A GeoJSON LineString (lon, lat); a single position repeats its point."""

    type: Literal["LineString"] = "LineString"
    coordinates: list[list[float]]


class TrackProperties(BaseModel):
    """What the track's feature says besides its line."""

    asset_id: str
    since: datetime
    until: datetime
    points: int
    # The time of each vertex, in the line's order.
    times: list[datetime]
    # Whether more points were there than the answer carries (the newest are kept).
    truncated: bool


class VehicleTrack(BaseModel):
    """One vehicle's track over a period, as a GeoJSON Feature (null geometry when the
    vehicle reported nothing then)."""

    type: Literal["Feature"] = "Feature"
    geometry: TrackGeometry | None
    properties: TrackProperties


class CrewProposal(BaseModel):
    """A team with a vehicle near the intervention's place, and how far (straight line)."""

    team_id: int
    team_name: str
    asset_id: str
    vehicle_name: str
    kind: str
    distance_m: float
    ts: datetime
    lon: float
    lat: float


class NearestCrews(BaseModel):
    """The available teams nearest to an intervention, nearest first."""

    intervention_id: int
    items: list[CrewProposal]


class RouteLine(BaseModel):
    """A GeoJSON LineString in WGS84 (lon, lat); checked by the service."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["LineString"]
    coordinates: list[Any] = Field(min_length=2, max_length=MAX_ROUTE_VERTICES)


class SaltingRouteCreate(BaseModel):
    """A new salting route; its communes are those it crosses when left out."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    communes: list[str] | None = Field(default=None, min_length=1, max_length=30)
    geometry: RouteLine
    level: int = Field(default=1, ge=1, le=3, description="1: salted first")


class SaltingRouteUpdate(BaseModel):
    """Fields of a route to change; those left out stay."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    communes: list[str] | None = Field(default=None, min_length=1, max_length=30)
    geometry: RouteLine | None = None
    level: int | None = Field(default=None, ge=1, le=3)


class SaltingRouteOut(BaseModel):
    """A salting route."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    communes: list[str]
    geometry: dict[str, Any]
    level: int
    length_m: float
    created_at: datetime
    updated_at: datetime
    # Salted since the list's ``since`` (0 to 1); None where it was not asked for.
    completion: float | None = None


class SaltingRouteList(BaseModel):
    """Salting routes of the caller's communes."""

    items: list[SaltingRouteOut]


class RouteCompletion(BaseModel):
    """How much of a route the salting trucks covered since a time."""

    route_id: int
    since: datetime
    until: datetime
    tolerance_m: float
    completion: float = Field(description="0 to 1: the fraction of the route's length salted")
    length_m: float
    salted_m: float
    trucks: list[str] = Field(description="The salting trucks whose tracks covered some of it")
