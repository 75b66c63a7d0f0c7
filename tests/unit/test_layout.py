"""The house keeps its shape: no module of the product over 400 lines (migrations aside),
so each does one job a newcomer can read whole (docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path

import beffroi

MAX_LINES = 400
PACKAGE = Path(beffroi.__file__).parent


def test_no_module_is_over_400_lines() -> None:
    too_long = {
        str(path.relative_to(PACKAGE)): lines
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"split these by job (at most {MAX_LINES} lines): {too_long}"
