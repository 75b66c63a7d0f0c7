"""The shapes of an open dataset: its columns, their privacy class, its licence and source.

The datasets themselves are data (see :mod:`beffroi.opendata.datasets`), described with
these frozen dataclasses, as the equipment catalogue describes equipment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


class ColumnType(StrEnum):
    """The type of a column's values, as the API and the exports name it (ODS's names)."""

    TEXT = "text"
    INTEGER = "int"
    NUMBER = "double"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"


class Privacy(StrEnum):
    """What a column's values are, for the privacy rule (:mod:`beffroi.opendata.privacy`)."""

    # Facts of public equipment (a streetlight's place, its lamp), or of the metropolis.
    EQUIPMENT = "equipment"
    # Measures of equipment or of the city (energy, counts, concentrations), aggregated.
    MEASURE = "measure"
    # Never published: a person's data (names, contacts, accounts, authors of notes)…
    PERSONAL = "personal"
    # …anything of the video-protection cameras (where they look, what they record)…
    CAMERA = "camera"
    # …text typed by people (descriptions, notes, comments: they name people)…
    FREE_TEXT = "free_text"
    # …and the secrets of devices and accounts.
    CREDENTIAL = "credential"


FORBIDDEN = frozenset({Privacy.PERSONAL, Privacy.CAMERA, Privacy.FREE_TEXT, Privacy.CREDENTIAL})


class TimeStep(StrEnum):
    """How coarse a published time is."""

    HOUR = "hour"
    DAY = "day"


@dataclass(frozen=True, slots=True)
class Coarsen:
    """How a column is made coarse before it is published: a time truncated to the hour or
    day, a coordinate snapped to a grid of ``grid_m`` metres."""

    time: TimeStep | None = None
    grid_m: float | None = None


@dataclass(frozen=True, slots=True)
class Column:
    """One published column."""

    name: str
    type: ColumnType
    description: str
    privacy: Privacy
    unit: str | None = None
    coarsen: Coarsen | None = None


@dataclass(frozen=True, slots=True)
class Licence:
    """A licence of open data, with the URL that identifies it (DCAT's ``dct:license``)."""

    key: str
    title: str
    url: str


LICENCE_OUVERTE = Licence(
    "etalab-2.0",
    "Licence Ouverte / Open Licence 2.0",
    "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
)
ODBL = Licence(
    "odbl-1.0",
    "Open Database License (ODbL) 1.0",
    "https://opendatacommons.org/licenses/odbl/1-0/",
)


@dataclass(frozen=True, slots=True)
class Geometry:
    """The columns holding a record's point (WGS84, GeoJSON order)."""

    lon: str
    lat: str


Row = dict[str, Any]
# Builds a dataset's rows from the hub's data, in the caller's session (one transaction).
Build = Callable[[AsyncSession, "BuildContext"], Awaitable[Sequence[Row]]]


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What a dataset's query may need besides the session: now, and the city's zone."""

    now: datetime  # aware, UTC
    timezone: str
    history_days: int


@dataclass(frozen=True, slots=True)
class Dataset:
    """One published dataset, declared once; adding a dataset is adding one of these."""

    id: str
    title: str
    description: str
    themes: tuple[str, ...]
    keywords: tuple[str, ...]
    licence: Licence
    provenance: str
    # When the scheduler refreshes it: a five-field cron expression on the city's clock
    # (the scheduler's registry makes it a ``Cron`` trigger; the areas sit below it).
    schedule: str
    columns: tuple[Column, ...]
    build: Build
    # The equipment types the query reads (the privacy rule refuses the cameras').
    asset_types: tuple[str, ...] = ()
    geometry: Geometry | None = None
    # How often the data changes, in DCAT's frequency vocabulary (the EU's authority table).
    frequency: str = "DAILY"
    publisher: str = "Dijon métropole"

    def column(self, name: str) -> Column | None:
        """The column of that name, if published."""
        return next((c for c in self.columns if c.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        """The published columns' names, in order."""
        return tuple(c.name for c in self.columns)
