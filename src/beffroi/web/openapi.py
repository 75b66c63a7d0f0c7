"""The API's OpenAPI document, written to a file for the console's generated types.

    python -m beffroi.web.openapi web/openapi.json
    cd web && npm run generate:api      # web/src/generated/api.ts from it

Both files are committed; ``tests/unit/test_openapi_document.py`` fails when either is out
of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from beffroi.config import Settings
from beffroi.web.app import create_app


def document() -> dict[str, Any]:
    """The OpenAPI document the application serves at /api/openapi.json."""
    # The defaults, not this machine's BEFFROI_* variables: the document is the same
    # wherever it is written (no setting changes it today; this keeps it so).
    return create_app(settings=Settings.model_construct()).openapi()


def text() -> str:
    """The document as the committed file holds it."""
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Write the document to the path given, or to standard output."""
    args = sys.argv[1:] if argv is None else argv
    if args:
        Path(args[0]).write_text(text(), encoding="utf-8")
    else:
        sys.stdout.write(text())


if __name__ == "__main__":
    main()
