"""Checks over decoded JSON values, whoever sent them.

Python's ``json`` reads ``NaN``, ``Infinity`` and ``1e999`` as floats that no JSON writer
may emit, PostgreSQL's ``jsonb`` refuses and comparisons get wrong (``NaN < 0`` and
``NaN > 100`` are both false, so a range check lets it through). Beffroi refuses them
wherever numbers come in, naming where they are.
"""

from __future__ import annotations

import math
from typing import Any

NOT_FINITE = "must be a finite number (NaN and Infinity are not numbers in JSON)"


def non_finite_paths(value: Any, prefix: str = "") -> list[str]:
    """The dotted paths (``params.level_pct``, ``target.0.lat``) of every non-finite
    number in a decoded JSON value; ``prefix`` names the value itself."""
    found: list[str] = []
    # Depth first without recursion: a deeply nested document must not exhaust the stack.
    stack: list[tuple[str, Any]] = [(prefix, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                found.append(path or "body")
        elif isinstance(item, dict):
            stack.extend((_join(path, str(k)), v) for k, v in reversed(item.items()))
        elif isinstance(item, list | tuple):
            stack.extend((_join(path, str(i)), v) for i, v in reversed(list(enumerate(item))))
    return found


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part
