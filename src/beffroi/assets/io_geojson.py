"""Asset files in GeoJSON: a FeatureCollection of Point features, parsed into
:class:`AssetCreate` rows (never raising: every problem is a :class:`FieldError` naming its
feature and field) and rendered back in chunks of text."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final

import orjson
from pydantic import ValidationError

from beffroi.assets.io_formats import Parsed, batches
from beffroi.assets.schemas import AssetCreate, AssetOut
from beffroi.core.errors import FieldError

# Index of a coordinate in a pydantic error location on Point.coordinates.
AXIS_NAMES: Final[dict[int | str, str]] = {0: "longitude", 1: "latitude"}


def parse_geojson(text: str) -> Parsed:
    """Assets of a GeoJSON FeatureCollection of Point features.

    A feature's row is its 1-based index in ``features``; errors name it and the field
    (``geometry.coordinates``, ``properties.status``...). Never raises.
    """
    try:
        return _parse_geojson(text)
    except RecursionError:
        # orjson caps nesting itself; this guards any deep structure that slips through.
        return [], [FieldError("file", "the JSON is nested too deeply")]


def _parse_geojson(text: str) -> Parsed:
    if not text.strip("\ufeff \t\r\n"):
        return [], [FieldError("file", "the file is empty")]
    try:
        document = orjson.loads(text.removeprefix("\ufeff"))
    except orjson.JSONDecodeError as exc:
        message = f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        return [], [FieldError("file", message)]
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        return [], [FieldError("type", "expected a GeoJSON FeatureCollection")]
    features = document.get("features")
    if not isinstance(features, list):
        return [], [FieldError("features", "expected an array of features")]
    items: list[tuple[int, AssetCreate]] = []
    errors: list[FieldError] = []
    for row, feature in enumerate(features, start=1):
        item, feature_errors = _feature_asset(feature, row)
        if item is not None:
            items.append((row, item))
        errors.extend(feature_errors)
    return items, errors


def _feature_asset(feature: Any, row: int) -> tuple[AssetCreate | None, list[FieldError]]:
    """One feature as an asset, or the errors that prevent it."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return None, [FieldError("type", "expected a GeoJSON Feature", row)]
    errors: list[FieldError] = []
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        errors.append(FieldError("geometry", "expected a Point geometry", row))
        geometry = {}
    properties = feature.get("properties")
    if properties is None:
        properties = {}
    elif not isinstance(properties, dict):
        errors.append(FieldError("properties", "expected an object", row))
        properties = {}
    if "location" in properties:
        message = "unknown property; the position is the feature's geometry"
        errors.append(FieldError("properties.location", message, row))
    if errors:
        return None, errors
    # null means absent, as an empty cell does in CSV.
    data = {key: value for key, value in properties.items() if value is not None}
    if "id" not in data and isinstance(feature.get("id"), str):
        data["id"] = feature["id"]
    data["location"] = {"type": "Point", "coordinates": _horizontal(geometry.get("coordinates"))}
    try:
        return AssetCreate.model_validate(data), []
    except ValidationError as exc:
        return None, [
            FieldError(*_geojson_field(error["loc"], error["msg"]), row) for error in exc.errors()
        ]


def _horizontal(coordinates: Any) -> Any:
    # GeoJSON allows an altitude as third coordinate; the registry keeps lon and lat only.
    if isinstance(coordinates, list) and len(coordinates) == 3:
        return coordinates[:2]
    return coordinates


def _geojson_field(loc: tuple[int | str, ...], message: str) -> tuple[str, str]:
    """The GeoJSON path and message of a pydantic error location on :class:`AssetCreate`."""
    if loc[:1] == ("location",):
        axis = AXIS_NAMES.get(loc[2]) if len(loc) > 2 else None
        return "geometry.coordinates", f"{axis}: {message}" if axis else message
    return ".".join(["properties", *(str(part) for part in loc)]), message


GEOJSON_HEAD: Final = '{"type":"FeatureCollection","features":[\n'
GEOJSON_TAIL: Final = "\n]}\n"


def geojson_features(assets: Iterable[AssetOut], *, first: bool) -> str:
    """Features of a FeatureCollection, comma-separated (and led by a comma unless they
    are the ``first`` of the collection)."""
    features = [orjson.dumps(_feature(asset)).decode() for asset in assets]
    if not features:
        return ""
    return ("" if first else ",\n") + ",\n".join(features)


def render_geojson(assets: Iterable[AssetOut]) -> Iterator[str]:
    """A FeatureCollection of the assets, in chunks of text."""
    yield GEOJSON_HEAD
    first = True
    for chunk in batches(assets):
        yield geojson_features(chunk, first=first)
        first = False
    yield GEOJSON_TAIL


def _feature(asset: AssetOut) -> dict[str, Any]:
    lon, lat = asset.location.coordinates
    return {
        "type": "Feature",
        "id": asset.id,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "id": asset.id,
            "type": asset.type,
            "name": asset.name,
            "commune": asset.commune,
            "parent_id": asset.parent_id,
            "status": str(asset.status),
            "attributes": asset.attributes,
            "manufacturer": asset.manufacturer,
            "model": asset.model,
            "installed_on": asset.installed_on.isoformat() if asset.installed_on else None,
            "tags": asset.tags,
        },
    }
