"""Reading the simulated fleet's secrets from the CSV ``beffroi device credentials`` writes."""

from __future__ import annotations

import csv
from pathlib import Path

from beffroi.core.errors import FieldError, InvalidInput


def read_credentials_csv(path: Path) -> dict[str, str]:
    """Device secrets from a CSV ``id,secret`` (``beffroi device credentials --all --out``)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"id", "secret"} <= set(reader.fieldnames):
            raise InvalidInput(FieldError(str(path), "expected a CSV with columns id,secret"))
        secrets: dict[str, str] = {}
        errors: list[FieldError] = []
        for row_number, row in enumerate(reader, start=2):
            asset_id, secret = (row.get("id") or "").strip(), (row.get("secret") or "").strip()
            if not asset_id or not secret:
                errors.append(FieldError("id,secret", "both are required", row=row_number))
            else:
                secrets[asset_id] = secret
    if errors:
        raise InvalidInput(errors, f"{path}: bad credentials file")
    return secrets
