"""API shapes of open data: the catalogue's entries (ODS Explore v2.1's names where it has
them: ``dataset_id``, ``fields``, ``has_records``, ``total_count``, ``results``), and the
administration of keys and snapshots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from beffroi.opendata.service import Snapshot
from beffroi.opendata.spec import Dataset


class FieldOut(BaseModel):
    """A published column."""

    name: str
    type: str
    description: str
    unit: str | None = None
    # How coarse the values are made before publication ("hour", "day", "grid 100 m").
    coarsened: str | None = None


class LicenceOut(BaseModel):
    """The dataset's licence."""

    key: str
    title: str
    url: str


class GeometryOut(BaseModel):
    """The fields holding each record's point (WGS84)."""

    lon: str
    lat: str


class SnapshotOut(BaseModel):
    """A published version of a dataset."""

    model_config = ConfigDict(from_attributes=True)

    dataset: str
    version: int
    created_at: datetime
    row_count: int
    sha256: str
    size: int


class DatasetOut(BaseModel):
    """A dataset of the catalogue: what it holds, its licence and its current snapshot."""

    dataset_id: str
    title: str
    description: str
    themes: list[str]
    keywords: list[str]
    licence: LicenceOut
    provenance: str
    publisher: str
    frequency: str
    refresh_schedule: str = Field(description="Cron expression, on the city's clock")
    fields: list[FieldOut]
    geometry: GeometryOut | None
    has_records: bool
    snapshot: SnapshotOut | None
    exports: dict[str, str] = Field(description="Format -> URL of the whole export")


class Catalog(BaseModel):
    """A page of the catalogue."""

    total_count: int
    results: list[DatasetOut]


class RecordsPage(BaseModel):
    """A page of records (each a JSON object of the selected fields)."""

    total_count: int
    results: list[dict[str, Any]]


class KeyCreate(BaseModel):
    """A key to hand out: whom it is for."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="Who the key is for")


class KeyOut(BaseModel):
    """A key handed out (never the key itself, but its first characters)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    """A new key: ``key`` is shown this once."""

    key: str


def _coarsened(ds: Dataset, name: str) -> str | None:
    column = ds.column(name)
    coarse = column.coarsen if column is not None else None
    if coarse is None:
        return None
    if coarse.time is not None:
        return coarse.time.value
    return f"grid {coarse.grid_m:g} m" if coarse.grid_m else None


def dataset_out(ds: Dataset, snapshot: Snapshot | None, api: str) -> DatasetOut:
    """The catalogue entry of ``ds`` with its current snapshot; ``api`` is the API's root
    URL, for the export links."""
    formats = ["csv", "json", "parquet"] + (["geojson"] if ds.geometry else [])
    return DatasetOut(
        dataset_id=ds.id,
        title=ds.title,
        description=ds.description,
        themes=list(ds.themes),
        keywords=list(ds.keywords),
        licence=LicenceOut(key=ds.licence.key, title=ds.licence.title, url=ds.licence.url),
        provenance=ds.provenance,
        publisher=ds.publisher,
        frequency=ds.frequency,
        refresh_schedule=ds.schedule,
        fields=[
            FieldOut(
                name=c.name,
                type=c.type.value,
                description=c.description,
                unit=c.unit,
                coarsened=_coarsened(ds, c.name),
            )
            for c in ds.columns
        ],
        geometry=GeometryOut(lon=ds.geometry.lon, lat=ds.geometry.lat) if ds.geometry else None,
        has_records=snapshot is not None and snapshot.row_count > 0,
        snapshot=SnapshotOut.model_validate(snapshot) if snapshot else None,
        exports={f: f"{api}/catalog/datasets/{ds.id}/exports/{f}" for f in formats},
    )
