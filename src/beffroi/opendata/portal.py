"""Use cases of the public API (no login: everything here is public by design): the
catalogue, a dataset's metadata, its records and its exports, from the current snapshot.

Each answer carries an ETag made of the snapshot's version and the query, known before
any work: a client that has it gets a 304 for nothing, and the rendered body of a
repeated query comes from the in-process cache.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from beffroi.db import Database
from beffroi.opendata import exports, query
from beffroi.opendata.datasets import DATASETS
from beffroi.opendata.exports import ExportFormat
from beffroi.opendata.odsql import BadQuery
from beffroi.opendata.privacy import schema
from beffroi.opendata.reading import Published
from beffroi.opendata.schemas import Catalog, dataset_out
from beffroi.opendata.service import Snapshot, dataset_of
from beffroi.opendata.spec import Dataset

RECORDS_LIMIT = 100
RECORDS_DEFAULT = 10
RECORDS_WINDOW = 10_000  # offset + limit, as Opendatasoft's records endpoint
CATALOG_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Tagged:
    """An answer's ETag, and its body once rendered (None before)."""

    etag: str
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class Export:
    """An export: its ETag, type, file name and body in chunks."""

    etag: str
    media_type: str
    filename: str
    chunks: Iterator[bytes]
    not_modified: bool = False


def etag_of(*parts: object) -> str:
    """A strong ETag for an answer made of ``parts`` (versions and the query)."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:20]
    return f'"{digest}"'


def _matches(ds: Dataset, words: str | None, themes: list[str]) -> bool:
    if themes and not set(themes) & set(ds.themes):
        return False
    if not words:
        return True
    text = " ".join((ds.id, ds.title, ds.description, *ds.themes, *ds.keywords)).lower()
    return all(word in text for word in words.lower().split())


def _refinements(refine: list[str]) -> list[str]:
    """The themes of ``refine=theme:"Énergie"`` facets (the only facet of the catalogue)."""
    themes: list[str] = []
    for item in refine:
        facet, _, value = item.partition(":")
        if facet.strip() != "theme" or not value.strip():
            raise BadQuery("refine", f"{item!r}: only theme:<theme> refines the catalogue")
        themes.append(value.strip().strip('"'))
    return themes


async def catalog(
    db: Database,
    published: Published,
    api: str,
    *,
    q: str | None,
    themes: list[str],
    refine: list[str],
    limit: int,
    offset: int,
) -> Tagged:
    """The datasets matching the words ``q`` and the themes, a page of them."""
    if not 0 <= limit <= CATALOG_LIMIT:
        raise BadQuery("limit", f"must be between 0 and {CATALOG_LIMIT}")
    if offset < 0:
        raise BadQuery("offset", "must not be negative")
    wanted = themes + _refinements(refine)
    known = sorted({theme for ds in DATASETS for theme in ds.themes})
    for theme in wanted:
        if theme not in known:
            parameter = "theme" if theme in themes else "refine"
            raise BadQuery(parameter, f"no theme {theme!r}; the themes are {', '.join(known)}")
    found = [ds for ds in DATASETS if _matches(ds, q, wanted)]
    snapshots = {ds.id: await published.snapshot(db, ds.id) for ds in found}
    etag = etag_of(
        "catalog",
        api,
        q,
        wanted,
        limit,
        offset,
        sorted((k, s.version if s else 0) for k, s in snapshots.items()),
    )

    # Built only when not cached: the models cost more than the rest of the answer.
    def render() -> bytes:
        shown = found[offset : offset + limit]
        results = [dataset_out(ds, snapshots[ds.id], api) for ds in shown]
        page = Catalog(total_count=len(found), results=results)
        return page.model_dump_json(by_alias=True).encode()

    return Tagged(etag, published.answer(etag, render))


async def metadata(db: Database, published: Published, api: str, dataset_id: str) -> Tagged:
    """One dataset's catalogue entry."""
    ds = dataset_of(dataset_id)
    snapshot = await published.snapshot(db, ds.id)
    etag = etag_of("dataset", api, ds.id, snapshot.version if snapshot else 0)
    return Tagged(
        etag,
        published.answer(etag, lambda: dataset_out(ds, snapshot, api).model_dump_json().encode()),
    )


async def _frame(published: Published, ds: Dataset, snapshot: Snapshot | None) -> pl.DataFrame:
    if snapshot is None:
        return pl.DataFrame(schema=schema(ds))
    return await published.frame(snapshot)


async def records(
    db: Database,
    published: Published,
    dataset_id: str,
    asked: query.Query,
    if_none_match: str | None,
) -> Tagged:
    """A page of the records ``asked`` selects; the body is left out when the client's
    ETag is current."""
    ds = dataset_of(dataset_id)
    limit = RECORDS_DEFAULT if asked.limit is None else asked.limit
    if not 0 <= limit <= RECORDS_LIMIT:
        raise BadQuery("limit", f"must be between 0 and {RECORDS_LIMIT}; exports have no limit")
    if asked.offset < 0:
        raise BadQuery("offset", "must not be negative")
    if asked.offset + limit > RECORDS_WINDOW:
        raise BadQuery("offset", f"offset + limit must not exceed {RECORDS_WINDOW}: use an export")
    snapshot = await published.snapshot(db, ds.id)
    etag = etag_of("records", ds.id, snapshot.version if snapshot else 0, asked, limit)
    if if_none_match is not None and etag in if_none_match:
        return Tagged(etag)
    hit = published.answers.get(etag)
    if hit is not None:
        return Tagged(etag, hit.body)
    frame = await _frame(published, ds, snapshot)
    result = query.run(ds, frame, asked)
    body = exports.records_page(result.height, result.slice(asked.offset, limit))
    return Tagged(etag, published.answer(etag, lambda: body))


async def export(
    db: Database,
    published: Published,
    dataset_id: str,
    fmt: ExportFormat,
    asked: query.Query,
    max_rows: int,
    if_none_match: str | None = None,
) -> Export:
    """The whole of the records ``asked`` selects, in ``fmt``, in chunks."""
    ds = dataset_of(dataset_id)
    if asked.limit is not None and not (asked.limit == -1 or 0 <= asked.limit <= max_rows):
        raise BadQuery("limit", f"must be -1 (all) or between 0 and {max_rows}")
    if asked.offset < 0:
        raise BadQuery("offset", "must not be negative")
    if fmt == ExportFormat.GEOJSON and ds.geometry is None:
        raise BadQuery("format", f"dataset {ds.id!r} has no geometry: no GeoJSON")
    snapshot = await published.snapshot(db, ds.id)
    version = snapshot.version if snapshot else 0
    etag = etag_of("export", ds.id, version, fmt.value, asked)
    name = f"{ds.id}.{fmt.value}"
    media = exports.MEDIA_TYPES[fmt]
    if if_none_match is not None and etag in if_none_match:
        return Export(etag, media, name, iter(()), not_modified=True)
    if fmt == ExportFormat.PARQUET and asked == query.Query() and snapshot is not None:
        # The whole snapshot is the stored file itself: streamed as it is.
        path = published.store.path(ds.id, snapshot.version)
        return Export(etag, media, name, _file_chunks(path))
    frame = await _frame(published, ds, snapshot)
    result = await asyncio.to_thread(query.run, ds, frame, asked)
    limit = None if asked.limit in (None, -1) else asked.limit
    result = result.slice(asked.offset, limit)
    if result.height > max_rows:
        raise BadQuery(
            "limit",
            f"the export would hold {result.height} records, more than "
            f"{max_rows}: narrow it with where",
        )
    if fmt == ExportFormat.CSV:
        chunks = exports.csv_chunks(result)
    elif fmt == ExportFormat.JSON:
        chunks = exports.json_chunks(result)
    elif fmt == ExportFormat.GEOJSON:
        lon, lat = exports.geojson_check(ds, result)
        chunks = exports.geojson_chunks(result, lon, lat)
    else:
        chunks = iter([await asyncio.to_thread(exports.parquet_bytes, result)])
    return Export(etag, media, name, chunks)


def _file_chunks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(size):
            yield chunk
