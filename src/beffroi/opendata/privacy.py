"""The privacy rule of open data, enforced by code (docs/opendata.md).

Two halves, both pure:

- :func:`dataset_problems` refuses, when the registry loads, a dataset that would publish
  a forbidden class of column (personal data, camera data, free text typed by people,
  device credentials), a column whose name says it is one, or anything read from the
  cameras;
- :func:`publishable` turns the rows a dataset's query built into the frame that is
  published: only the declared columns (anything else a query returned is dropped), typed,
  and made coarse where a column says so (a time to the hour or day, a place to a grid),
  here rather than in each query.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime

import polars as pl

from beffroi.catalogue.registry import CATALOGUE
from beffroi.core.vocabulary import Domain
from beffroi.opendata.spec import (
    FORBIDDEN,
    LICENCE_OUVERTE,
    ODBL,
    Column,
    ColumnType,
    Dataset,
    Row,
    TimeStep,
)

# Column names that betray a forbidden class whatever class they declare.
SUSPECT_NAME = re.compile(
    r"(^|_)(e?mail|phone|username|user|author|created_by|password|passwd|secret|token|"
    r"credential|contact|first_?name|last_?name|surname|person|note|notes|comment|"
    r"comments|description|camera|video|preset|recording|plate|face|ip)(_|$)"
)
DATASET_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
LICENCES = frozenset({LICENCE_OUVERTE, ODBL})
# Metres in a degree of latitude (and of longitude at the equator).
METRES_PER_DEGREE = 111_320.0

POLARS_TYPES: dict[ColumnType, pl.DataType] = {
    ColumnType.TEXT: pl.String(),
    ColumnType.INTEGER: pl.Int64(),
    ColumnType.NUMBER: pl.Float64(),
    ColumnType.BOOLEAN: pl.Boolean(),
    ColumnType.DATE: pl.Date(),
    ColumnType.DATETIME: pl.Datetime("us", "UTC"),
}


def _column_problems(ds: Dataset, column: Column) -> list[str]:
    where = f"{ds.id}.{column.name}"
    problems: list[str] = []
    if column.privacy in FORBIDDEN:
        problems.append(f"{where}: {column.privacy.value} data is never published")
    if SUSPECT_NAME.search(column.name):
        problems.append(f"{where}: the name says personal, camera or free-text data")
    coarse = column.coarsen
    if coarse is not None and coarse.time is not None and column.type != ColumnType.DATETIME:
        problems.append(f"{where}: only a datetime column is coarsened in time")
    if coarse is not None and coarse.grid_m is not None:
        geometry = ds.geometry
        if geometry is None or column.name not in (geometry.lon, geometry.lat):
            problems.append(f"{where}: only the geometry's columns are snapped to a grid")
        elif not 1 <= coarse.grid_m <= 100_000:
            problems.append(f"{where}: a grid is 1 m to 100 km")
    return problems


def dataset_problems(ds: Dataset) -> list[str]:
    """Why ``ds`` may not be published (empty when it may)."""
    problems: list[str] = []
    if not DATASET_ID.match(ds.id) or len(ds.id) > 64:
        problems.append(f"{ds.id!r}: an id is lower-case words joined by '-'")
    if ds.licence not in LICENCES:
        problems.append(f"{ds.id}: licence {ds.licence.key} is not an open licence of the hub")
    names = [c.name for c in ds.columns]
    if not names:
        problems.append(f"{ds.id}: no column")
    problems += [
        f"{ds.id}.{n}: declared twice" for n in sorted({n for n in names if names.count(n) > 1})
    ]
    for column in ds.columns:
        problems += _column_problems(ds, column)
    for asset_type in ds.asset_types:
        if asset_type not in CATALOGUE:
            problems.append(f"{ds.id}: unknown equipment type {asset_type!r}")
        elif CATALOGUE[asset_type].domain == Domain.VIDEO:
            problems.append(f"{ds.id}: reads {asset_type}, and camera data is never published")
    geometry = ds.geometry
    if geometry is not None:
        for name in (geometry.lon, geometry.lat):
            found = ds.column(name)
            if found is None or found.type != ColumnType.NUMBER:
                problems.append(f"{ds.id}: geometry column {name!r} is not a number column")
    return problems


def checked(datasets: Iterable[Dataset]) -> tuple[Dataset, ...]:
    """``datasets`` as a tuple, or :class:`ValueError` naming every problem (at load: a
    dataset that breaks the rule never reaches a snapshot)."""
    out = tuple(datasets)
    problems = [p for ds in out for p in dataset_problems(ds)]
    ids = [ds.id for ds in out]
    problems += [
        f"dataset {i!r} declared twice" for i in sorted({i for i in ids if ids.count(i) > 1})
    ]
    if problems:
        raise ValueError("open data refused:\n" + "\n".join(problems))
    return out


def schema(ds: Dataset) -> dict[str, pl.DataType]:
    """The published frame's schema: the declared columns, in order."""
    return {c.name: POLARS_TYPES[c.type] for c in ds.columns}


def _snap(expr: pl.Expr, step: pl.Expr | float) -> pl.Expr:
    return (expr / step).round(0) * step


def _coarse_time(expr: pl.Expr, step: TimeStep, timezone: str) -> pl.Expr:
    if step is TimeStep.HOUR:
        return expr.dt.truncate("1h")
    # A day is the city's day, not UTC's.
    return expr.dt.convert_time_zone(timezone).dt.truncate("1d").dt.convert_time_zone("UTC")


def coarsened(ds: Dataset, frame: pl.DataFrame, timezone: str) -> pl.DataFrame:
    """``frame`` with each column made as coarse as its declaration says."""
    exprs: list[pl.Expr] = []
    geometry = ds.geometry
    for column in ds.columns:
        coarse = column.coarsen
        if coarse is None:
            continue
        if coarse.time is not None:
            exprs.append(_coarse_time(pl.col(column.name), coarse.time, timezone))
        if coarse.grid_m is not None and geometry is not None:
            lat_step = coarse.grid_m / METRES_PER_DEGREE
            if column.name == geometry.lat:
                exprs.append(_snap(pl.col(column.name), lat_step))
            else:
                # A degree of longitude shrinks with the cosine of the latitude.
                cos = (_snap(pl.col(geometry.lat), lat_step) * (math.pi / 180)).cos()
                step = (coarse.grid_m / METRES_PER_DEGREE) / cos.clip(lower_bound=0.01)
                exprs.append(_snap(pl.col(column.name), step))
    return frame.with_columns(exprs) if exprs else frame


INT64 = 2**63


def _fits(kind: ColumnType) -> Callable[[object], object]:
    """The value as its column's type holds it, or None (never something else)."""
    if kind is ColumnType.TEXT:
        return lambda v: v if isinstance(v, str) else None
    if kind is ColumnType.INTEGER:
        return lambda v: (
            v if isinstance(v, int) and not isinstance(v, bool) and -INT64 <= v < INT64 else None
        )
    if kind is ColumnType.NUMBER:
        return lambda v: (
            float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
        )
    if kind is ColumnType.BOOLEAN:
        return lambda v: v if isinstance(v, bool) else None
    if kind is ColumnType.DATE:
        return lambda v: v if isinstance(v, date) and not isinstance(v, datetime) else None
    return lambda v: v.astimezone(UTC) if isinstance(v, datetime) and v.tzinfo is not None else None


def publishable(ds: Dataset, rows: Sequence[Row], timezone: str) -> pl.DataFrame:
    """The frame published for ``rows``: the declared columns only, typed and coarsened.

    A value that does not fit its column's type is published as no value, never as
    something else; whatever a query returned beyond the declared columns is dropped.
    """
    columns = []
    for column in ds.columns:
        fit = _fits(column.type)
        values = [fit(row.get(column.name)) for row in rows]
        columns.append(pl.Series(column.name, values, dtype=POLARS_TYPES[column.type]))
    return coarsened(ds, pl.DataFrame(columns, schema=schema(ds)), timezone)
