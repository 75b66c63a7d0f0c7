"""API shapes of the staff side (the citizen line, the reports list). Open311's own
shapes are in :mod:`.open311_schemas`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from beffroi.assets.schemas import Point
from beffroi.interventions.lifecycle import Category, Status
from beffroi.reports.lifecycle import Channel, PublicStatus

DESCRIPTION_MAX = 4000
ADDRESS_MAX = 300
# Enough to catch a typing slip; whether it reaches someone is the mail server's answer.
EMAIL = r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE = r"^[0-9 +().-]*$"


class Contact(BaseModel):
    """Who reported, to call them back: personal data (kept apart, purged after a while)."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    first_name: str = Field(default="", max_length=100)
    last_name: str = Field(default="", max_length=100)
    email: str = Field(default="", max_length=254, pattern=EMAIL)
    phone: str = Field(default="", max_length=40, pattern=PHONE)


class ReportRecord(BaseModel):
    """A phone call to the citizen line, recorded by an operator. The place is a position
    (``location``), else a commune (code or name) and words (``address_string``)."""

    model_config = ConfigDict(extra="forbid")

    service_code: str = Field(min_length=1, max_length=40)
    location: Point | None = None
    commune: str | None = Field(default=None, min_length=1, max_length=200)
    address_string: str = Field(default="", max_length=ADDRESS_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    attributes: dict[str, str] = Field(default_factory=dict, max_length=20)
    caller: Contact | None = None


class ProgressStep(BaseModel):
    """A public step of the work a report follows."""

    status: Status
    at: datetime
    note: str


class ReportOut(BaseModel):
    """A report as staff read it (no personal data: see :class:`ReportDetail`)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket: str
    service_code: str
    category: Category
    commune: str
    location: Point | None
    address_string: str
    description: str
    attributes: dict[str, str]
    channel: Channel
    received_by: str
    intervention_id: int
    joined: bool
    has_photo: bool
    created_at: datetime
    purged_at: datetime | None
    status: PublicStatus
    status_notes: str


class ReportDetail(ReportOut):
    """A report with its caller's contact (while kept) and its public progress."""

    contact: Contact | None
    progress: list[ProgressStep]


class ReportPage(BaseModel):
    """One page of reports, newest first."""

    items: list[ReportOut]
    next_cursor: str | None


class PublicNoteCreate(BaseModel):
    """A note every ticket of the report's intervention will read: write nothing internal
    (no team, no person)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=1000)


class PublicNoteOut(BaseModel):
    """A public note."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    intervention_id: int
    text: str
    at: datetime
