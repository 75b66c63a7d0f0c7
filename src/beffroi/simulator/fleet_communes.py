"""The communes a synthetic fleet is spread over: where their centres are, how many live
there, and the short code of each in asset ids."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import combinations, count

from beffroi.communes.service import DEFAULT_COMMUNES, slugify


@dataclass(frozen=True, slots=True)
class CommuneRow:
    """A commune as the generator needs it: where its centre is and how many live there."""

    code: str
    name: str
    lat: float
    lon: float
    population: int


def load_communes(text: str | None = None) -> list[CommuneRow]:
    """Communes from a CSV (name, lat, lon, population); the packaged Dijon file by default."""
    if text is None:
        text = resources.files("beffroi.data").joinpath(DEFAULT_COMMUNES).read_text("utf-8")
    return [
        CommuneRow(
            code=slugify(row["name"]),
            name=row["name"],
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            population=int(row.get("population") or 0),
        )
        for row in csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    ]


def commune_abbreviations(communes: Sequence[CommuneRow]) -> dict[str, str]:
    """A unique three-character upper-case abbreviation per commune code, for asset ids.

    The most populous communes choose first, so the main town gets the obvious one ("DIJ").
    """
    taken: set[str] = set()
    out: dict[str, str] = {}
    for commune in sorted(communes, key=lambda c: (-c.population, c.code)):
        if commune.code in out:
            continue
        letters = re.sub(r"[^A-Z0-9]", "", commune.code.upper()) or "X"
        abbreviation = next(a for a in _abbreviation_candidates(letters) if a not in taken)
        taken.add(abbreviation)
        out[commune.code] = abbreviation
    return out


def _abbreviation_candidates(letters: str) -> Iterator[str]:
    """First three letters, then the first letter with two later ones, then numbered."""
    yield (letters + "XX")[:3]
    for i, j in combinations(range(1, len(letters)), 2):
        yield letters[0] + letters[i] + letters[j]
    for n in count():
        yield f"{letters[0]}{n:02d}"
