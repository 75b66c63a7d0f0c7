"""Asset files: GeoJSON and CSV round trips, and bad input named by row and field."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beffroi.assets.io import (
    ATTRIBUTE_KEYS,
    CSV_COLUMNS,
    Parsed,
    detect_format,
    parse_assets,
    parse_csv,
    parse_geojson,
    render_csv,
    render_geojson,
)
from beffroi.assets.lifecycle import AssetStatus
from beffroi.assets.schemas import AssetCreate, AssetOut, Point
from beffroi.catalogue import CATALOGUE
from beffroi.core.errors import FieldError
from beffroi.simulator.fleet import generate_fleet

HEADER = "id,type,name,commune,lon,lat"

ODD = AssetCreate(
    id="SL-ODD.1",
    type="streetlight",
    name=' Lampadaire "rue, de la Paix"\nTalant ',
    commune="talant",
    location=Point(coordinates=(-0.000001, 47.123456789)),
    status=AssetStatus.MAINTENANCE,
    attributes={"lamp_type": "HPS", "rated_power_w": 1e-3, "dimmable": False, "circuit": 7},
    tags=["patrimoine", "zone 30", "éclairage"],
)
BARE = AssetCreate(
    id="AQ-1",
    type="air_quality_station",
    name="Station",
    commune="dijon",
    location=Point(coordinates=(5.0, 47.0)),
)
SAMPLE = [*generate_fleet(scale=0.003, seed=7), ODD, BARE]


def row_of(item: AssetCreate) -> AssetOut:
    """The asset an import of ``item`` would register (commune given as its code)."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return AssetOut(
        id=item.id,
        type=item.type,
        name=item.name,
        commune=item.commune,
        location=item.location,
        parent_id=item.parent_id,
        status=item.status,
        attributes=item.attributes,
        manufacturer=item.manufacturer,
        model=item.model,
        installed_on=item.installed_on,
        tags=item.tags,
        version=1,
        created_at=now,
        updated_at=now,
    )


def geojson(*features: dict[str, Any]) -> str:
    return orjson.dumps({"type": "FeatureCollection", "features": list(features)}).decode()


def feature(**properties: Any) -> dict[str, Any]:
    """A valid streetlight feature, with ``properties`` changed (``coordinates`` too)."""
    coordinates = properties.pop("coordinates", [5.04, 47.32])
    base: dict[str, Any] = {
        "id": "SL-1",
        "type": "streetlight",
        "name": "Point lumineux 1",
        "commune": "dijon",
    }
    base.update(properties)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": coordinates},
        "properties": base,
    }


def where(errors: list[FieldError]) -> list[tuple[int | None, str]]:
    return [(e.row, e.field) for e in errors]


# --- round trips ------------------------------------------------------------------------


def test_sample_covers_every_type() -> None:
    assert {a.type for a in SAMPLE} == set(CATALOGUE)


@pytest.mark.parametrize(
    ("render", "parse"), [(render_geojson, parse_geojson), (render_csv, parse_csv)]
)
def test_export_then_import_gives_the_same_assets(render: Any, parse: Any) -> None:
    items, errors = parse("".join(render(row_of(a) for a in SAMPLE)))
    assert errors == []
    assert [item for _, item in items] == SAMPLE


def test_rows_are_feature_indexes_and_csv_lines() -> None:
    rows = [row_of(a) for a in SAMPLE[:3]]
    assert [r for r, _ in parse_geojson("".join(render_geojson(rows)))[0]] == [1, 2, 3]
    assert [r for r, _ in parse_csv("".join(render_csv(rows)))[0]] == [2, 3, 4]


def test_rendering_streams_in_chunks() -> None:
    rows = [row_of(a) for a in generate_fleet(scale=0.07, seed=2)]
    assert len(rows) > 2000
    for render, parse in ((render_geojson, parse_geojson), (render_csv, parse_csv)):
        chunks = list(render(rows))
        assert len(chunks) >= 3
        items, errors = parse("".join(chunks))
        assert (len(items), errors) == (len(rows), [])


def test_empty_exports_read_back_as_nothing() -> None:
    assert parse_geojson("".join(render_geojson([]))) == ([], [])
    assert parse_csv("".join(render_csv([]))) == ([], [])


def test_csv_header_names_every_catalogue_attribute_sorted() -> None:
    header = next(csv.reader(io.StringIO("".join(render_csv([])))))
    assert header == list(CSV_COLUMNS)
    attributes = [c.removeprefix("attr.") for c in header if c.startswith("attr.")]
    assert attributes == sorted(attributes) == list(ATTRIBUTE_KEYS)
    assert {"rated_power_w", "circuits", "capacity", "network"} <= set(attributes)


@pytest.mark.parametrize(
    ("filename", "text", "expected"),
    [
        ("fleet.geojson", "", "geojson"),
        ("FLEET.JSON", "id,type", "geojson"),
        ("fleet.csv", "{", "csv"),
        ("upload", '\ufeff  {"type": "FeatureCollection"}', "geojson"),
        ("upload", "id,type,name", "csv"),
    ],
)
def test_detect_format(filename: str, text: str, expected: str) -> None:
    assert detect_format(filename, text) == expected


def test_parse_assets_follows_the_detected_format() -> None:
    assert parse_assets("a.csv", f"{HEADER}\nX,streetlight,x,dijon,5,47\n")[0][0][1].id == "X"
    assert parse_assets("a.geojson", geojson(feature()))[0][0][1].id == "SL-1"


# --- GeoJSON ----------------------------------------------------------------------------


def test_geojson_reads_a_full_feature() -> None:
    text = geojson(
        feature(
            coordinates=[5.1, 47.2, 250.0],
            status="planned",
            attributes={"rated_power_w": 40},
            installed_on="2019-04-01",
            tags=["a", "b"],
            parent_id=None,
            manufacturer="Signify",
        )
    )
    [(row, item)], errors = parse_geojson(text)
    assert (row, errors) == (1, [])
    assert item.location.coordinates == (5.1, 47.2)
    assert item.status is AssetStatus.PLANNED
    assert item.installed_on == date(2019, 4, 1)
    assert item.parent_id is None
    assert item.manufacturer == "Signify"


def test_geojson_takes_the_feature_id_when_properties_have_none() -> None:
    f = feature()
    del f["properties"]["id"]
    f["id"] = "SL-FROM-FEATURE"
    assert parse_geojson(geojson(f))[0][0][1].id == "SL-FROM-FEATURE"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("", "file"),
        ('{"type": "FeatureCollection", "features": [', "file"),
        ("[1, 2]", "type"),
        ('{"type": "Feature"}', "type"),
        ('{"type": "FeatureCollection", "features": {}}', "features"),
        ("[" * 100_000 + "]" * 100_000, "file"),
        ('{"type": "FeatureCollection", "features": [1e400]}', "file"),
    ],
)
def test_geojson_file_errors_name_the_file(text: str, field: str) -> None:
    items, errors = parse_geojson(text)
    assert items == []
    assert where(errors) == [(None, field)]


def test_malformed_json_says_where() -> None:
    [error] = parse_geojson('{"type": "FeatureCollection",\n  "features": [}')[1]
    assert "line 2" in error.message
    assert "column" in error.message


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (feature(coordinates=[200, 47]), "geometry.coordinates"),
        (feature(coordinates=[5, -91]), "geometry.coordinates"),
        (feature(coordinates="here"), "geometry.coordinates"),
        (feature(status="broken"), "properties.status"),
        (feature(installed_on="2020-02-30"), "properties.installed_on"),
        (feature(id="has space"), "properties.id"),
        (feature(colour="red"), "properties.colour"),
        (feature(location=[5, 47]), "properties.location"),
        (feature(tags="a;b"), "properties.tags"),
        (feature(attributes=[1]), "properties.attributes"),
        ({**feature(), "geometry": {"type": "LineString", "coordinates": []}}, "geometry"),
        ({**feature(), "geometry": None}, "geometry"),
        ({**feature(), "properties": [1]}, "properties"),
        ({**feature(), "type": "Point"}, "type"),
        ("not a feature", "type"),
    ],
)
def test_a_bad_feature_is_named_by_row_and_field(bad: Any, field: str) -> None:
    items, errors = parse_geojson(geojson(feature(id="SL-0"), bad, feature(id="SL-2")))
    assert [row for row, _ in items] == [1, 3]
    assert where(errors) == [(2, field)]


def test_longitude_and_latitude_are_told_apart() -> None:
    [error] = parse_geojson(geojson(feature(coordinates=[5, 95])))[1]
    assert error.message.startswith("latitude")


def test_every_error_of_a_feature_is_reported() -> None:
    text = geojson(feature(status="broken", installed_on="soon", coordinates=[200, 47]))
    fields = {e.field for e in parse_geojson(text)[1]}
    assert fields == {"properties.status", "properties.installed_on", "geometry.coordinates"}


def test_deeply_nested_attributes_are_an_error_not_a_crash() -> None:
    nested = '{"a":' * 1000 + "1" + "}" * 1000
    text = geojson(feature(attributes={"x": "NESTED"})).replace('"NESTED"', nested)
    items, errors = parse_geojson(text)
    # Attributes are checked against the catalogue at import, not here.
    assert len(items) + len(errors) == 1


# --- CSV --------------------------------------------------------------------------------


def test_csv_coerces_attributes_with_the_type_schema() -> None:
    text = (
        f"{HEADER},attr.rated_power_w,attr.circuit,attr.dimmable,attr.lamp_type,tags\n"
        "SL-1,streetlight,x,dijon,5.04,47.3,45.5,3,yes,LED, a ; b ;\n"
        "SL-2,streetlight,x,dijon,5.04,47.3,40,3.0,0,,\n"
    )
    [(_, first), (_, second)], errors = parse_csv(text)
    assert errors == []
    assert first.attributes == {
        "rated_power_w": 45.5,
        "circuit": 3,
        "dimmable": True,
        "lamp_type": "LED",
    }
    assert first.tags == ["a", "b"]
    assert second.attributes == {"rated_power_w": 40, "circuit": 3, "dimmable": False}
    assert type(second.attributes["circuit"]) is int


def test_csv_empty_cells_are_absent() -> None:
    columns = "status,parent_id,installed_on,attr.rated_power_w"
    text = f"{HEADER},{columns}\nA,streetlight,x,dijon,5,47,,,,\n"
    [(_, item)], errors = parse_csv(text)
    assert errors == []
    assert item.status is AssetStatus.IN_SERVICE
    assert (item.parent_id, item.installed_on, item.attributes) == (None, None, {})


def test_csv_tolerates_a_bom_semicolons_and_decimal_commas() -> None:
    text = "\ufeffid;type;name;commune;lon;lat\r\nA;streetlight;x;dijon;5,04;47,3\r\n"
    [(row, item)], errors = parse_csv(text)
    assert (row, errors) == (2, [])
    assert item.location.coordinates == (5.04, 47.3)


def test_csv_rows_are_line_numbers_blank_lines_included() -> None:
    text = f"{HEADER}\n\nA,streetlight,x,dijon,5,47\n ,,\nB,streetlight,x,dijon,500,47\n"
    items, errors = parse_csv(text)
    assert [row for row, _ in items] == [3]
    assert where(errors) == [(5, "lon")]


@pytest.mark.parametrize(
    ("columns", "cells", "field"),
    [
        ("", "200,47", "lon"),
        ("", "5,-95", "lat"),
        ("", "east,47", "lon"),
        ("", ",47", "lon"),
        (",status", "5,47,broken", "status"),
        (",installed_on", "5,47,2020-13-01", "installed_on"),
        (",parent_id", "5,47,bad id", "parent_id"),
        (",attr.dimmable", "5,47,maybe", "attr.dimmable"),
        (",attr.circuit", "5,47,2.5", "attr.circuit"),
        (",attr.rated_power_w", "5,47,nan", "attr.rated_power_w"),
        (",attr.capacity", "5,47,300", "attr.capacity"),
        ("", "5,47,extra", "row"),
    ],
)
def test_a_bad_csv_row_is_named_by_row_and_field(columns: str, cells: str, field: str) -> None:
    text = (
        f"{HEADER}{columns}\n"
        f"A,streetlight,x,dijon,5,47{',' * columns.count(',')}\n"
        f"B,streetlight,x,dijon,{cells}\n"
        f"C,streetlight,x,dijon,5,47{',' * columns.count(',')}\n"
    )
    items, errors = parse_csv(text)
    assert [row for row, _ in items] == [2, 4]
    assert where(errors) == [(3, field)]


def test_every_error_of_a_csv_row_is_reported() -> None:
    text = f"{HEADER},status,attr.circuit\nA,streetlight,,dijon,200,47,broken,x\n"
    assert set(where(parse_csv(text)[1])) == {
        (2, "name"),
        (2, "lon"),
        (2, "status"),
        (2, "attr.circuit"),
    }


def test_attributes_of_an_unknown_type_cannot_be_read() -> None:
    text = f"{HEADER},attr.circuit\nA,spaceship,x,dijon,5,47,3\n"
    assert where(parse_csv(text)[1]) == [(2, "type")]


def test_unknown_columns_are_named_and_nothing_is_read() -> None:
    text = f"{HEADER},colour,attr.colour,status,status\nA,streetlight,x,dijon,5,47,red,red,,\n"
    items, errors = parse_csv(text)
    assert items == []
    assert where(errors) == [(1, "colour"), (1, "attr.colour"), (1, "status")]
    assert "attribute 'colour'" in errors[1].message


def test_missing_required_columns_are_reported_once() -> None:
    text = "id,type,name\n" + "A,streetlight,x\n" * 50
    items, errors = parse_csv(text)
    assert items == []
    assert where(errors) == [(1, "commune"), (1, "lon"), (1, "lat")]


@pytest.mark.parametrize("text", ["", " \n\n", "\ufeff"])
def test_an_empty_csv_is_an_error(text: str) -> None:
    assert where(parse_csv(text)[1]) == [(1, "file")]


def test_a_csv_cell_too_large_for_the_reader_is_an_error() -> None:
    text = f'{HEADER}\nA,streetlight,"{"x" * 200_000}",dijon,5,47\n'
    items, errors = parse_csv(text)
    assert items == []
    assert [e.field for e in errors] == ["file"]


# --- never raise ------------------------------------------------------------------------

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
PROPERTY_NAMES = st.sampled_from(
    [
        *("id", "type", "name", "commune", "parent_id", "status", "attributes", "manufacturer"),
        *("model", "installed_on", "tags", "location", "other"),
    ]
)
PLAUSIBLE = (
    st.sampled_from(["SL-1", "streetlight", "dijon", "in_service", "2020-01-01", "x y", ""]) | JSON
)
FEATURES = st.fixed_dictionaries(
    {
        "type": st.just("Feature") | JSON,
        "geometry": st.fixed_dictionaries(
            {
                "type": st.sampled_from(["Point", "LineString"]) | JSON,
                "coordinates": st.lists(st.floats(-400, 400), max_size=4) | JSON,
            }
        )
        | JSON,
        "properties": st.dictionaries(PROPERTY_NAMES, PLAUSIBLE, max_size=10) | JSON,
    }
)
DOCUMENTS = JSON | st.fixed_dictionaries(
    {"type": st.just("FeatureCollection"), "features": st.lists(FEATURES, max_size=4) | JSON}
)
CELLS = st.text(alphabet=st.sampled_from('ab1.-,;"\n\r \ufeff:é'), max_size=8) | st.sampled_from(
    ["5", "47", "streetlight", "dijon", "true", "2020-01-01", "in_service", "1e400", "nan"]
)
CSV_TEXT = st.builds(
    lambda header, rows, sep: "\n".join(sep.join(cells) for cells in [header, *rows]),
    st.lists(st.sampled_from([*CSV_COLUMNS, "attr.x", "", "foo"]), min_size=1, max_size=10),
    st.lists(st.lists(CELLS, max_size=12), max_size=5),
    st.sampled_from([",", ";"]),
)


def check_outcome(result: Parsed) -> None:
    """Whatever the input: assets and errors only, each error naming where it is."""
    items, errors = result
    assert all(isinstance(item, AssetCreate) for _, item in items)
    for error in errors:
        assert isinstance(error, FieldError)
        assert error.field
        assert error.row is None or error.row >= 1
    assert not {row for row, _ in items} & {e.row for e in errors}


@given(st.text())
def test_any_text_parses_as_geojson_without_raising(text: str) -> None:
    check_outcome(parse_geojson(text))


@given(st.text())
def test_any_text_parses_as_csv_without_raising(text: str) -> None:
    result = parse_csv(text)
    check_outcome(result)
    assert all(e.row is not None for e in result[1])


# Generating nested documents is slow on a machine busy with the rest of the suite; the
# property, not the generator's speed, is what this test checks.
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_any_json_value_parses_without_raising(document: Any) -> None:
    items, errors = parse_geojson(orjson.dumps(document).decode())
    check_outcome((items, errors))
    features = document.get("features") if isinstance(document, dict) else None
    assert items or errors or features == []
    # Only whole-file problems have no row.
    assert all(e.row is not None or e.field in {"file", "type", "features"} for e in errors)


@settings(max_examples=150)
@given(CSV_TEXT)
def test_any_csv_like_text_parses_without_raising(text: str) -> None:
    items, errors = parse_csv(text)
    check_outcome((items, errors))
    assert all(e.row is not None for e in errors)
