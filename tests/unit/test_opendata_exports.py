"""Exports rendered in chunks parse back whole: several chunks joined, names with accents,
a record without a place (a feature without geometry), NaN written as no value."""

from __future__ import annotations

import csv
import io
import json

import polars as pl
import pytest

from beffroi.opendata import exports

FRAME = pl.DataFrame(
    {
        "counter_id": [f"TC-{i}" for i in range(7)],
        "road": ["Rue de l'Église", "Avenue Jean Jaurès", "Rue Ø", "Quai", "Rue", "Rue", "Cours"],
        "lon": [5.01, 5.02, None, 5.04, 5.05, 5.06, 5.07],
        "lat": [47.3, 47.31, 47.32, 47.33, 47.34, 47.35, 47.36],
        "speed": [30.0, float("nan"), 50.0, 20.0, 10.0, 15.0, 25.0],
    }
)


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "CHUNK_ROWS", 3)


def test_geojson_in_chunks_is_one_valid_collection() -> None:
    chunks = list(exports.geojson_chunks(FRAME, "lon", "lat"))
    assert len(chunks) > 4  # three chunks of records, their separators, the envelope
    doc = json.loads(b"".join(chunks))
    features = doc["features"]
    assert [f["properties"]["counter_id"] for f in features] == list(FRAME["counter_id"])
    assert features[0]["properties"]["road"] == "Rue de l'Église"
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [5.01, 47.3]}
    assert features[2]["geometry"] is None
    assert features[1]["properties"]["speed"] is None
    assert "lon" not in features[0]["properties"]


def test_json_and_csv_in_chunks_hold_every_record_once() -> None:
    rows = json.loads(b"".join(exports.json_chunks(FRAME)))
    assert [r["road"] for r in rows] == list(FRAME["road"])
    assert rows[1]["speed"] is None
    text = b"".join(exports.csv_chunks(FRAME)).decode()
    read = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [r["counter_id"] for r in read] == list(FRAME["counter_id"])
    assert read[6]["road"] == "Cours"
