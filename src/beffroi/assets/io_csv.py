"""Asset files in CSV: one row per asset under a header of known columns (attributes in
``attr.<name>`` columns), parsed into :class:`AssetCreate` rows (never raising: every
problem is a :class:`FieldError` naming its line and column) and rendered back in chunks."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

import orjson
from pydantic import ValidationError

from beffroi.assets.io_formats import Parsed, batches
from beffroi.assets.schemas import AssetCreate, AssetOut
from beffroi.catalogue import CATALOGUE
from beffroi.core.errors import FieldError

ATTR_PREFIX: Final = "attr."
TAG_SEPARATOR: Final = ";"
REQUIRED_COLUMNS: Final = ("id", "type", "name", "commune", "lon", "lat")
BASE_COLUMNS: Final = (
    *REQUIRED_COLUMNS,
    "parent_id",
    "status",
    "manufacturer",
    "model",
    "installed_on",
    "tags",
)
# Free text keeps its spaces (a round trip must not alter a name); codes and numbers do not.
VERBATIM_COLUMNS: Final = frozenset({"name", "manufacturer", "model"})
# Columns passed to the model as they are (the others need parsing first).
PLAIN_COLUMNS: Final = tuple(c for c in BASE_COLUMNS if c not in {"lon", "lat", "tags"})
# Known before the first row is streamed, so an export of any mix of types has one header.
ATTRIBUTE_KEYS: Final = tuple(
    sorted({key for spec in CATALOGUE.values() for key in spec.attributes.get("properties", {})})
)
CSV_COLUMNS: Final = (*BASE_COLUMNS, *(ATTR_PREFIX + key for key in ATTRIBUTE_KEYS))
KNOWN_COLUMNS: Final = frozenset(CSV_COLUMNS)
TRUE_WORDS: Final = frozenset({"true", "1", "yes"})
FALSE_WORDS: Final = frozenset({"false", "0", "no"})
INTEGER_LITERAL: Final = re.compile(r"[+-]?[0-9]+")
# Index of a coordinate in a pydantic error location on Point.coordinates.
AXIS_COLUMNS: Final[dict[int | str, str]] = {0: "lon", 1: "lat"}


def parse_csv(text: str) -> Parsed:
    """Assets of a CSV file with a header row (see :data:`CSV_COLUMNS`).

    ``attr.<name>`` columns are attributes, coerced with the type's attribute schema; an
    empty cell is absent; tags are separated by ``;``. A row is its line in the file
    (header = 1). A bad header yields no assets, only its errors. A ``;``-delimited file
    (as spreadsheets in French locales write) and decimal commas are accepted. Never raises.
    """
    text = text.removeprefix("\ufeff")
    if not text.strip():
        return [], [FieldError("file", "the file is empty", 1)]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    items: list[tuple[int, AssetCreate]] = []
    errors: list[FieldError] = []
    header_errors: list[FieldError] = []
    try:
        header = [cell.strip() for cell in next(reader, [])]
        header_errors = _header_errors(header)
        if any(column not in header for column in REQUIRED_COLUMNS):
            # Every row would repeat the same complaint: report the header alone.
            return [], header_errors
        # Unknown columns are reported once, in the header, not again on every row.
        readable = [column if column in KNOWN_COLUMNS else "" for column in header]
        for row, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            item, row_errors = _csv_asset(readable, cells, row)
            if item is not None:
                items.append((row, item))
            errors.extend(row_errors)
    except csv.Error as exc:
        errors.append(FieldError("file", f"unreadable CSV: {exc}", max(1, reader.line_num)))
    if header_errors:
        return [], header_errors + errors
    return items, errors


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return ";" if ";" in header and "," not in header else ","


def _header_errors(header: list[str]) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[str] = set()
    for number, column in enumerate(header, start=1):
        if not column:
            errors.append(FieldError(f"column {number}", "column without a name", 1))
        elif column in seen:
            errors.append(FieldError(column, "duplicate column", 1))
        elif column not in KNOWN_COLUMNS:
            errors.append(FieldError(column, _unknown_column(column), 1))
        seen.add(column)
    errors.extend(FieldError(c, "missing column", 1) for c in REQUIRED_COLUMNS if c not in seen)
    return errors


def _unknown_column(column: str) -> str:
    if column.startswith(ATTR_PREFIX):
        return f"unknown column: no equipment type has attribute {column[len(ATTR_PREFIX) :]!r}"
    return f"unknown column; expected {', '.join(BASE_COLUMNS)} or attr.<attribute>"


def _csv_asset(
    header: list[str], cells: list[str], row: int
) -> tuple[AssetCreate | None, list[FieldError]]:
    """One CSV row as an asset, or every error found in it."""
    if len(cells) > len(header):
        message = f"{len(cells)} cells but the header has {len(header)} columns"
        return None, [FieldError("row", message, row)]
    # A short row (trailing cells trimmed by a spreadsheet) reads as empty cells.
    values = {
        column: cell for column, cell in zip(header, cells, strict=False) if column and cell.strip()
    }
    errors: list[FieldError] = []
    data: dict[str, Any] = {
        column: values[column] if column in VERBATIM_COLUMNS else values[column].strip()
        for column in PLAIN_COLUMNS
        if column in values
    }
    if "tags" in values:
        data["tags"] = [tag.strip() for tag in values["tags"].split(TAG_SEPARATOR) if tag.strip()]
    lon = _coordinate(values, "lon", row, errors)
    lat = _coordinate(values, "lat", row, errors)
    attributes = _csv_attributes(values, data.get("type"), row, errors)
    # Placeholders let pydantic check the other fields, so the row reports all its errors.
    data["location"] = {"coordinates": (lon or 0.0, lat or 0.0)}
    data["attributes"] = attributes
    try:
        item = AssetCreate.model_validate(data)
    except ValidationError as exc:
        errors.extend(FieldError(_csv_field(e["loc"]), e["msg"], row) for e in exc.errors())
        return None, errors
    return (None if errors else item), errors


def _coordinate(
    values: Mapping[str, str], column: str, row: int, errors: list[FieldError]
) -> float | None:
    raw = values.get(column)
    if raw is None:
        errors.append(FieldError(column, "required", row))
        return None
    number = _float(raw)
    if number is None:
        errors.append(FieldError(column, f"not a number: {raw.strip()!r}", row))
    return number


def _float(raw: str) -> float | None:
    text = raw.strip()
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def _csv_attributes(
    values: Mapping[str, str], type_key: Any, row: int, errors: list[FieldError]
) -> dict[str, Any]:
    """The ``attr.*`` cells of a row, coerced with the attribute schema of its type."""
    cells = {c[len(ATTR_PREFIX) :]: v for c, v in values.items() if c.startswith(ATTR_PREFIX)}
    if not cells:
        return {}
    spec = CATALOGUE.get(type_key) if isinstance(type_key, str) else None
    if spec is None:
        errors.append(FieldError("type", f"unknown type {type_key!r}: cannot read attr.*", row))
        return {}
    properties: dict[str, Any] = spec.attributes.get("properties", {})
    attributes: dict[str, Any] = {}
    for key, raw in cells.items():
        column = ATTR_PREFIX + key
        if key not in properties:
            errors.append(FieldError(column, f"{spec.key} has no attribute {key!r}", row))
            continue
        try:
            attributes[key] = _coerce(raw.strip(), properties[key].get("type"))
        except ValueError as exc:
            errors.append(FieldError(column, str(exc), row))
    return attributes


def _coerce(text: str, json_type: Any) -> Any:
    """A cell as the JSON type its schema asks for; ValueError says what was expected."""
    if json_type == "boolean":
        word = text.lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        raise ValueError(f"expected true/false, 1/0 or yes/no, not {text!r}")
    if json_type in ("integer", "number"):
        return _number(text, integer=json_type == "integer")
    return text


def _number(text: str, *, integer: bool) -> int | float:
    if INTEGER_LITERAL.fullmatch(text):
        return int(text)
    value = _float(text)
    if value is None or not math.isfinite(value):
        raise ValueError(f"expected a number, not {text!r}")
    if integer:
        if not value.is_integer():
            raise ValueError(f"expected a whole number, not {text!r}")
        return int(value)
    return value


def _csv_field(loc: tuple[int | str, ...]) -> str:
    """The CSV column of a pydantic error location on :class:`AssetCreate`."""
    if loc[:1] == ("location",):
        return AXIS_COLUMNS.get(loc[2], "lon") if len(loc) > 2 else "lon"
    return str(loc[0]) if loc else "row"


def csv_rows(assets: Iterable[AssetOut], *, header: bool = False) -> str:
    """CSV lines of the assets (after the header :data:`CSV_COLUMNS` with ``header``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_row(asset) for asset in assets)
    return buffer.getvalue()


def render_csv(assets: Iterable[AssetOut]) -> Iterator[str]:
    """The assets as CSV (header :data:`CSV_COLUMNS`), in chunks of text."""
    yield csv_rows((), header=True)
    for chunk in batches(assets):
        yield csv_rows(chunk)


def _csv_row(asset: AssetOut) -> list[str]:
    attributes = asset.attributes or {}
    lon, lat = asset.location.coordinates
    return [
        asset.id,
        asset.type,
        asset.name,
        asset.commune,
        repr(lon),
        repr(lat),
        asset.parent_id or "",
        str(asset.status),
        asset.manufacturer or "",
        asset.model or "",
        asset.installed_on.isoformat() if asset.installed_on else "",
        TAG_SEPARATOR.join(asset.tags or []),
        *(_cell(attributes.get(key)) for key in ATTRIBUTE_KEYS),
    ]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        # repr of a float is its shortest exact form, so numbers survive the round trip.
        return repr(value) if isinstance(value, float) else str(value)
    return orjson.dumps(value).decode()
