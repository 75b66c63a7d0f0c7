"""Tables of the citizen reports area.

What a report says about the problem (``reports``) is kept apart from what it says about
the person (``report_contacts``, ``report_photos``): the second is deleted after a set
period (jobs.purge_personal_data) and never copied anywhere else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.db import Base, BigId, JSONType, UTCDateTime


class Report(Base):
    """A problem reported by a citizen (Open311) or taken by phone (the citizen line)."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The citizen's ticket and Open311 service_request_id: random, never the row id.
    ticket: Mapped[str] = mapped_column(String(32), unique=True)
    service_code: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(16))
    commune_code: Mapped[str] = mapped_column(ForeignKey("communes.code"), index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    address_string: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    channel: Mapped[str] = mapped_column(String(16))
    # An api key's client name, or the operator who took the call.
    received_by: Mapped[str] = mapped_column(String(200))
    # The intervention the report opened or joined (the interventions area's id).
    intervention_id: Mapped[int] = mapped_column(Integer, index=True)
    joined: Mapped[bool] = mapped_column(Boolean, default=False)
    has_photo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # When the personal data was deleted (the report itself stays, anonymous).
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class ReportContact(Base):
    """Who reported: personal data, read by staff only, deleted after the set period."""

    __tablename__ = "report_contacts"

    report_id: Mapped[int] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")


class ReportPhoto(Base):
    """The photo sent with a report, re-encoded without its metadata (EXIF: position,
    camera, owner). It may show people: staff only, deleted with the contact."""

    __tablename__ = "report_photos"

    report_id: Mapped[int] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    content_type: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ReportNote(Base):
    """A public note on the work a report follows: what every ticket of that intervention
    reads in its status_notes (internal notes stay in the interventions area)."""

    __tablename__ = "report_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    intervention_id: Mapped[int] = mapped_column(Integer, index=True)
    text: Mapped[str] = mapped_column(String(1000))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    author: Mapped[str] = mapped_column(String(200))
