"""What the two formats of asset files share: their names, what parsing one gives, and
the chunks a render is written in."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Final, Literal

from beffroi.assets.schemas import AssetCreate, AssetOut
from beffroi.core.errors import FieldError

Format = Literal["geojson", "csv"]
# The assets that parsed, each with its row, and a FieldError for everything else.
Parsed = tuple[list[tuple[int, AssetCreate]], list[FieldError]]

CHUNK_ROWS: Final = 1000


def batches(assets: Iterable[AssetOut]) -> Iterator[tuple[AssetOut, ...]]:
    """The assets in tuples of :data:`CHUNK_ROWS`, the unit of a rendered chunk."""
    items = iter(assets)
    while chunk := tuple(itertools.islice(items, CHUNK_ROWS)):
        yield chunk
