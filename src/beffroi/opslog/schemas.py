"""API shapes of the operations log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from beffroi.core.dates import Instant
from beffroi.opslog.lifecycle import MAX_LINKS, MAX_TEXT, Desk, LogCategory


class LogPlace(BaseModel):
    """Where it happened: a GeoJSON Point or Polygon, WGS84 in (lon, lat) order; its shape
    is checked by the service (a closed, valid ring inside the metropolis)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Point", "Polygon"]
    coordinates: list[Any] = Field(max_length=5000)


# Ids as their tables hold them: anything longer or larger names nothing (and a number
# beyond a BIGINT would fail in PostgreSQL rather than match nothing).
TextId = Annotated[str, Field(min_length=1, max_length=64)]
BigRowId = Annotated[int, Field(ge=1, le=2**62)]
RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class LogLinks(BaseModel):
    """The objects of other areas an entry names; each must exist in the author's scope."""

    asset_ids: list[TextId] = Field(default=[], max_length=MAX_LINKS)
    alarm_ids: list[BigRowId] = Field(default=[], max_length=MAX_LINKS)
    intervention_ids: list[RowId] = Field(default=[], max_length=MAX_LINKS)
    report_ids: list[RowId] = Field(default=[], max_length=MAX_LINKS)
    command_ids: list[TextId] = Field(default=[], max_length=MAX_LINKS)


class LogEntryCreate(LogLinks):
    """A new entry. ``occurred_at``: when it happened (now when left out); ``follows``: the
    earlier entry this one follows up."""

    model_config = ConfigDict(extra="forbid")

    desk: Desk
    category: LogCategory
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    commune: str = Field(min_length=1, max_length=64)
    occurred_at: Instant | None = None
    place: LogPlace | None = None
    follows: int | None = Field(default=None, ge=1, le=2**31 - 1)


class LogAmendmentCreate(BaseModel):
    """A correction or a complement of an entry, which itself is never changed."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT)


class LogAmendmentOut(BaseModel):
    """An amendment, as shown under its entry."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(validation_alias="seq")
    recorded_at: datetime
    author: str
    text: str


class LogEntryOut(LogLinks):
    """An entry with its amendments, oldest first (the newest last)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    recorded_at: datetime
    author: str
    desk: Desk
    category: LogCategory
    commune: str
    text: str
    place: dict[str, Any] | None
    follows: int | None
    amendments: list[LogAmendmentOut]


class LogEntryPage(BaseModel):
    """One page of entries, newest first."""

    items: list[LogEntryOut]
    next_cursor: str | None


class LogDailyReport(BaseModel):
    """A desk's local day: its entries (by time of occurrence) with their amendments, and
    how many of each category (every category named, zeros included)."""

    day: date
    desk: Desk
    timezone: str
    counts: dict[LogCategory, int]
    entries: list[LogEntryOut]


class LogChainCheck(BaseModel):
    """The log chain's verification."""

    ok: bool
    checked: int
    problems: list[str]
