"""The shapes of Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2), in its own
field names. None holds personal data: a request is its problem, place and progress."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from beffroi.interventions.lifecycle import Status
from beffroi.reports.lifecycle import PublicStatus

SPEC = "http://wiki.open311.org/GeoReport_v2"


class Endpoint(BaseModel):
    """One API of the discovery document."""

    specification: str = SPEC
    url: str
    changeset: datetime
    type: str = "production"
    formats: list[str] = Field(default_factory=lambda: ["application/json"])


class Discovery(BaseModel):
    """Service discovery (``discovery.json``)."""

    changeset: datetime
    contact: str
    key_service: str
    endpoints: list[Endpoint]


class ServiceOut(BaseModel):
    """An entry of ``services.json``."""

    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str = "realtime"
    keywords: str
    group: str


class ValueOut(BaseModel):
    """A choice of a list attribute."""

    key: str
    name: str


class AttributeOut(BaseModel):
    """A question of a service definition."""

    variable: bool = True
    code: str
    datatype: str
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[ValueOut]


class ServiceDefinition(BaseModel):
    """``services/{service_code}.json``."""

    service_code: str
    attributes: list[AttributeOut]


class RequestCreated(BaseModel):
    """The answer to a posted request: its id (the citizen's ticket)."""

    service_request_id: str
    service_notice: str
    account_id: str | None = None


class ProgressOut(BaseModel):
    """A public step of the work (an extension of the spec: clients may ignore it)."""

    status: Status
    at: datetime
    note: str


class RequestOut(BaseModel):
    """A service request as anyone may read it."""

    model_config = ConfigDict(populate_by_name=True)

    service_request_id: str
    status: PublicStatus
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: str
    service_notice: str
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime | None
    address: str
    address_id: str | None = None
    zipcode: str | None = None
    lat: float | None
    long_: float | None = Field(alias="long")
    media_url: str | None = None
    progress: list[ProgressOut]


class Open311Error(BaseModel):
    """One error, in Open311's format (a list of these is the answer's body)."""

    code: int
    description: str
