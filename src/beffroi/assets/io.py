"""Asset files: GeoJSON and CSV parsing (into :class:`AssetCreate` rows) and rendering;
each format in its module (:mod:`~beffroi.assets.io_geojson`, :mod:`~beffroi.assets.io_csv`).

Pure functions, no database. Parsers never raise on bad input: they return the assets that
parsed and a :class:`FieldError` for everything else, each naming its row and field, so an
import can report every problem of a file at once. Renderers stream text chunks that the
parsers read back into the same assets.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence

from beffroi.assets.io_csv import ATTRIBUTE_KEYS, CSV_COLUMNS, csv_rows, parse_csv, render_csv
from beffroi.assets.io_formats import Format, Parsed
from beffroi.assets.io_geojson import (
    GEOJSON_HEAD,
    GEOJSON_TAIL,
    geojson_features,
    parse_geojson,
    render_geojson,
)
from beffroi.assets.schemas import AssetOut

# The door to asset files: each format has its module, callers need only this one.
__all__ = [
    "ATTRIBUTE_KEYS",
    "CSV_COLUMNS",
    "Format",
    "Parsed",
    "detect_format",
    "parse_assets",
    "parse_csv",
    "parse_geojson",
    "render_csv",
    "render_geojson",
    "stream",
]


def detect_format(filename: str, text: str) -> Format:
    """The format of an asset file: by extension, else by its first character."""
    name = filename.lower()
    if name.endswith((".geojson", ".json")):
        return "geojson"
    if name.endswith(".csv"):
        return "csv"
    return "geojson" if text.lstrip("\ufeff \t\r\n").startswith("{") else "csv"


def parse_assets(filename: str, text: str) -> Parsed:
    """Parse an asset file in whichever format :func:`detect_format` finds."""
    if detect_format(filename, text) == "geojson":
        return parse_geojson(text)
    return parse_csv(text)


async def stream(pages: AsyncIterable[Sequence[AssetOut]], fmt: Format) -> AsyncIterator[str]:
    """The export of the assets in ``pages``, written as the pages come: one page in
    memory at a time, whatever the size of the registry."""
    if fmt == "csv":
        yield csv_rows((), header=True)
        async for page in pages:
            yield csv_rows(page)
        return
    yield GEOJSON_HEAD
    first = True
    async for page in pages:
        yield geojson_features(page, first=first)
        first = first and not page
    yield GEOJSON_TAIL
