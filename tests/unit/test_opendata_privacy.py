"""The privacy rule of open data, property-based: over dataset definitions (a forbidden
column class is refused whatever else the dataset says) and over generated rows (no
personal or camera data reaches any published frame, and coarse columns are coarse)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beffroi.opendata import exports
from beffroi.opendata.datasets import DATASETS, STREETLIGHTS
from beffroi.opendata.privacy import checked, dataset_problems, publishable
from beffroi.opendata.spec import (
    FORBIDDEN,
    Coarsen,
    Column,
    ColumnType,
    Dataset,
    Privacy,
    TimeStep,
)

# What a query might let slip beside its declared columns: each must be dropped.
SLIPPED = {
    "email": "jane.doe@example.org",
    "created_by": "jane.doe",
    "description": "Jane Doe phoned from 06 12 34 56 78",
    "camera_id": "CAM-TAL-1",
    "device_secret": "s3cr3t-device-password",
    "username": "jdoe",
}
MARKERS = tuple(SLIPPED.values())
SAFE_NAMES = st.from_regex(r"\A[a-z]{1,8}(_[a-z]{1,8}){0,2}\Z").filter(
    lambda n: (
        not dataset_problems(
            replace(
                STREETLIGHTS,
                columns=(Column(n, ColumnType.TEXT, "", Privacy.EQUIPMENT),),
                geometry=None,
            )
        )
    )
)
PRIVACY = st.sampled_from(list(Privacy))


def _column(name: str, privacy: Privacy) -> Column:
    return Column(name, ColumnType.TEXT, "a column", privacy)


@settings(max_examples=100)
@given(st.lists(st.tuples(SAFE_NAMES, PRIVACY), min_size=1, max_size=8, unique_by=lambda c: c[0]))
def test_a_dataset_with_a_forbidden_column_class_is_refused(
    columns: list[tuple[str, Privacy]],
) -> None:
    ds = replace(
        STREETLIGHTS,
        id="generated",
        columns=tuple(_column(n, p) for n, p in columns),
        geometry=None,
    )
    forbidden = [n for n, p in columns if p in FORBIDDEN]
    problems = dataset_problems(ds)
    if forbidden:
        assert problems
        for name in forbidden:
            assert any(f"generated.{name}:" in p for p in problems)
        with pytest.raises(ValueError, match="open data refused"):
            checked([ds])
    else:
        assert problems == []


@pytest.mark.parametrize(
    "name",
    [
        "email",
        "owner_email",
        "created_by",
        "camera_id",
        "note",
        "device_secret",
        "api_token",
        "password",
    ],
)
def test_a_column_named_like_private_data_is_refused_whatever_it_declares(name: str) -> None:
    ds = replace(STREETLIGHTS, columns=(*STREETLIGHTS.columns, _column(name, Privacy.MEASURE)))
    assert any(name in p for p in dataset_problems(ds))


def test_a_dataset_reading_the_cameras_is_refused() -> None:
    ds = replace(STREETLIGHTS, asset_types=("streetlight", "camera"))
    assert any("camera" in p for p in dataset_problems(ds))


def test_every_published_dataset_passes_and_declares_nothing_forbidden() -> None:
    assert checked(DATASETS) == DATASETS
    for ds in DATASETS:
        assert not {c.privacy for c in ds.columns} & FORBIDDEN
        assert "camera" not in ds.asset_types


def _value(kind: ColumnType) -> st.SearchStrategy[object]:
    return (
        {
            ColumnType.TEXT: st.text(max_size=20) | st.sampled_from(MARKERS),
            ColumnType.INTEGER: st.integers(-(2**40), 2**40),
            ColumnType.NUMBER: st.floats(allow_nan=True, allow_infinity=False, width=64),
            ColumnType.BOOLEAN: st.booleans(),
            ColumnType.DATE: st.dates(date(2000, 1, 1), date(2100, 1, 1)),
            ColumnType.DATETIME: st.datetimes(
                datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
                datetime(2100, 1, 1),  # noqa: DTZ001
                timezones=st.just(UTC),
            ),
        }[kind]
        | st.none()
        | st.sampled_from(MARKERS)
    )


@st.composite
def rows_of(draw: st.DrawFn, ds: Dataset) -> list[dict[str, object]]:
    out = []
    for _ in range(draw(st.integers(0, 6))):
        row: dict[str, object] = {c.name: draw(_value(c.type)) for c in ds.columns}
        row.update(draw(st.dictionaries(st.sampled_from(list(SLIPPED)), st.sampled_from(MARKERS))))
        out.append(row)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_private_value_or_column_reaches_a_published_frame(data: st.DataObject) -> None:
    ds = data.draw(st.sampled_from(DATASETS))
    rows = data.draw(rows_of(ds))
    frame = publishable(ds, rows, "Europe/Paris")
    assert frame.columns == list(ds.names)
    assert frame.height == len(rows)
    # Markers typed into a declared text column are that column's value (a query's bug,
    # not a leak of a column); what must never show is a column that was not declared.
    declared_text = {c.name for c in ds.columns if c.type == ColumnType.TEXT}
    for name in set(frame.columns) - declared_text:
        rendered = frame.get_column(name).cast(pl.String).to_list()
        assert not set(rendered) & set(MARKERS)
    csv_text = b"".join(exports.csv_chunks(frame)).decode()
    header = csv_text.splitlines()[0] if csv_text else ""
    assert not set(header.split(";")) & set(SLIPPED)
    for column in ds.columns:
        coarse = column.coarsen
        if coarse is not None and coarse.time is TimeStep.HOUR:
            for moment in frame.get_column(column.name).drop_nulls().to_list():
                assert (moment.minute, moment.second, moment.microsecond) == (0, 0, 0)
    parquet = pl.read_parquet(io.BytesIO(exports.parquet_bytes(frame)))
    assert parquet.columns == list(ds.names)


def test_places_snap_to_a_grid_and_days_to_the_city_s_day() -> None:
    ds = Dataset(
        id="gridded",
        title="t",
        description="d",
        themes=(),
        keywords=(),
        licence=STREETLIGHTS.licence,
        provenance="p",
        schedule="0 * * * *",
        build=STREETLIGHTS.build,
        geometry=STREETLIGHTS.geometry,
        columns=(
            Column(
                "at",
                ColumnType.DATETIME,
                "when",
                Privacy.MEASURE,
                coarsen=Coarsen(time=TimeStep.DAY),
            ),
            Column("lon", ColumnType.NUMBER, "x", Privacy.MEASURE, coarsen=Coarsen(grid_m=500)),
            Column("lat", ColumnType.NUMBER, "y", Privacy.MEASURE, coarsen=Coarsen(grid_m=500)),
        ),
    )
    assert dataset_problems(ds) == []
    points = [(5.0411, 47.3221), (5.0412, 47.3222), (5.0482, 47.3221)]
    frame = publishable(
        ds,
        [{"at": datetime(2026, 6, 1, 23, 30, tzinfo=UTC), "lon": x, "lat": y} for x, y in points],
        "Europe/Paris",
    )
    # 23:30 UTC is 01:30 in Paris on 2 June: the city's day starts at 22:00 UTC.
    assert frame.get_column("at").to_list()[0] == datetime(2026, 6, 1, 22, tzinfo=UTC)
    snapped = list(
        zip(frame.get_column("lon").to_list(), frame.get_column("lat").to_list(), strict=True)
    )
    assert snapped[0] == snapped[1], "two points 15 m apart fall in one cell"
    assert snapped[0] != snapped[2], "a point 530 m east does not"
    assert abs(snapped[0][1] - 47.3221) < 500 / 111_320
