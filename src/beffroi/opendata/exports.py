"""A query's records rendered for the API: JSON pages, and whole exports in CSV, JSON,
GeoJSON and Parquet, produced in chunks so a large export streams.

Rendering is polars' own (Rust) writers and expressions: a year of hourly counts of
every counter, some 1.7 million records, renders in about a second.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from enum import StrEnum

import polars as pl

from beffroi.opendata.odsql import BadQuery
from beffroi.opendata.spec import Dataset

CHUNK_ROWS = 50_000
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class ExportFormat(StrEnum):
    """The formats of a dataset's exports."""

    CSV = "csv"
    JSON = "json"
    GEOJSON = "geojson"
    PARQUET = "parquet"


MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.JSON: "application/json",
    ExportFormat.GEOJSON: "application/geo+json",
    ExportFormat.PARQUET: "application/vnd.apache.parquet",
}


def _clean(frame: pl.DataFrame) -> pl.DataFrame:
    """NaN is no value in any format (JSON has none, CSV readers disagree)."""
    floats = [n for n, t in frame.schema.items() if t.is_float()]
    return frame.with_columns(pl.col(floats).fill_nan(None)) if floats else frame


def json_rows(frame: pl.DataFrame) -> bytes:
    """``frame`` as a JSON array of objects (dates ISO 8601, times with their offset)."""
    out = io.BytesIO()
    _clean(frame).write_json(out)
    return out.getvalue()


def records_page(total: int, page: pl.DataFrame) -> bytes:
    """The body of a records answer: ``{"total_count": n, "results": [...]}``."""
    return b'{"total_count":%d,"results":%s}' % (total, json_rows(page))


def _chunks(frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
    for start in range(0, max(frame.height, 1), CHUNK_ROWS):
        yield frame.slice(start, CHUNK_ROWS)


def csv_chunks(frame: pl.DataFrame) -> Iterator[bytes]:
    """``frame`` as CSV with ';' between fields (as French spreadsheets expect), a header
    line, one chunk at a time."""
    frame = _clean(frame)
    for index, part in enumerate(_chunks(frame)):
        out = io.BytesIO()
        part.write_csv(
            out, separator=";", include_header=index == 0, datetime_format=DATETIME_FORMAT
        )
        yield out.getvalue()


def json_chunks(frame: pl.DataFrame) -> Iterator[bytes]:
    """``frame`` as one JSON array, one chunk at a time."""
    frame = _clean(frame)
    yield b"["
    for index, part in enumerate(_chunks(frame)):
        if part.height == 0:
            continue
        body = json_rows(part)[1:-1]
        yield (b"," + body) if index else body
    yield b"]"


def geojson_check(ds: Dataset, frame: pl.DataFrame) -> tuple[str, str]:
    """The (lon, lat) columns a GeoJSON export draws from, or a 400 saying why not."""
    if ds.geometry is None:
        raise BadQuery("format", f"dataset {ds.id!r} has no geometry: no GeoJSON")
    lon, lat = ds.geometry.lon, ds.geometry.lat
    if lon not in frame.columns or lat not in frame.columns:
        raise BadQuery("select", f"a GeoJSON export needs the fields {lon!r} and {lat!r}")
    return lon, lat


def geojson_chunks(frame: pl.DataFrame, lon: str, lat: str) -> Iterator[bytes]:
    """``frame`` as a GeoJSON FeatureCollection of points; the other fields are each
    feature's properties."""
    frame = _clean(frame)
    others = [c for c in frame.columns if c not in (lon, lat)]
    properties = pl.struct(others).struct.json_encode() if others else pl.lit("{}")
    # A record without a place is a feature without geometry, as GeoJSON allows: the
    # point's text is null when a coordinate is. (A when/otherwise choosing between whole
    # features encoded every record's properties twice: the export's costliest part.)
    geometry = pl.concat_str(
        pl.lit('{"type":"Point","coordinates":['),
        pl.col(lon).cast(pl.String),
        pl.lit(","),
        pl.col(lat).cast(pl.String),
        pl.lit("]}"),
    ).fill_null(pl.lit("null"))
    line = pl.concat_str(
        pl.lit('{"type":"Feature","geometry":'),
        geometry,
        pl.lit(',"properties":'),
        properties,
        pl.lit("}"),
    ).alias("feature")
    yield b'{"type":"FeatureCollection","features":['
    for index, part in enumerate(_chunks(frame)):
        if part.height == 0:
            continue
        if index:
            yield b","
        # As bytes straight from polars' buffer: through a Python str, a chunk holding
        # one non-ASCII letter is decoded and encoded again character by character.
        body: bytes = part.select(line.str.join(",").cast(pl.Binary)).item()
        yield body
    yield b"]}"


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    """``frame`` as a Parquet file."""
    out = io.BytesIO()
    frame.write_parquet(out, compression="zstd")
    return out.getvalue()
