"""The console's API types come from the OpenAPI document the application serves: the
committed document (web/openapi.json) and the types generated from it
(web/src/generated/api.ts) must be those of the code as it is."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from beffroi.web import openapi

WEB = Path(__file__).resolve().parents[2] / "web"
GENERATOR = WEB / "node_modules" / ".bin" / "openapi-typescript"


@pytest.fixture(scope="module")
def document() -> str:
    """The document of the code as it is (building it takes seconds: once)."""
    return openapi.text()


def test_the_committed_openapi_document_is_up_to_date(document: str) -> None:
    assert (WEB / "openapi.json").read_text(encoding="utf-8") == document, (
        "web/openapi.json is out of date: python -m beffroi.web.openapi web/openapi.json, "
        "then cd web && npm run generate:api"
    )


def test_the_committed_api_types_are_up_to_date(document: str, tmp_path: Path) -> None:
    if not GENERATOR.is_file():
        pytest.skip("the console's tools are not installed: make web")
    source = tmp_path / "openapi.json"
    source.write_text(document, encoding="utf-8")
    generated = tmp_path / "api.ts"
    subprocess.run(
        [str(GENERATOR), str(source), "-o", str(generated)],
        cwd=WEB,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert (WEB / "src" / "generated" / "api.ts").read_text(encoding="utf-8") == (
        generated.read_text(encoding="utf-8")
    ), "web/src/generated/api.ts is out of date: cd web && npm run generate:api"
