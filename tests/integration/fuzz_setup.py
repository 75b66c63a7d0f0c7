"""What the API fuzz run gives its schemathesis hooks (``fuzz_hooks.py``): the run's
credentials, plausible command bodies and the kind of every query parameter.

The hooks run in schemathesis' own process; they read this as JSON from the
``BEFFROI_FUZZ_SETUP`` environment variable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from beffroi.accounts import signin
from beffroi.assets.schemas import AssetCreate
from beffroi.core.context import Context
from tests.support import PASSWORD

HOOKS = Path(__file__).with_name("fuzz_hooks.py")
SETUP_VARIABLE = "BEFFROI_FUZZ_SETUP"
# The checks of the hooks file, enabled beside the run's own (see ``CONFIG``).
CHECKS = (
    "non_finite_numbers_are_refused",
    "dates_out_of_range_are_refused",
    "unknown_values_are_refused",
    "strange_credentials_change_nothing",
    "answers_are_strict_json",
)


def hooks_line() -> str:
    """The top-level line of the schemathesis configuration that loads the hooks."""
    return f"hooks = {json.dumps(str(HOOKS))}"


def checks_lines() -> str:
    """The lines of the ``[checks]`` table that enable the hooks' checks."""
    return "\n".join(f"{name}.enabled = true" for name in CHECKS)


async def session_cookie(system: Context, username: str) -> str:
    """A console session of ``username`` (the run's person), for cases that use one."""
    signed = await signin.sign_in(
        system.db, username, PASSWORD, "127.0.0.1 fuzz", timedelta(hours=1)
    )
    return signed.cookie


def plausible_bodies(items: Sequence[AssetCreate]) -> dict[str, list[dict[str, Any]]]:
    """Commands the run's person may send, with numbers in their parameters: a
    non-finite number put there reaches the policy, not a 404 or a schema error first."""
    # Lights of another commune than the first light's, whose commands the run seeds
    # (a light with a command under way refuses another: 409).
    seeded = next(i.commune for i in items if i.type == "streetlight")
    lights = [i.id for i in items if i.type == "streetlight" and i.commune != seeded][:4]
    light = lights.pop()
    signals = next(i.id for i in items if i.type == "traffic_controller")
    return {
        "POST /api/v1/commands": [
            {"asset_id": light, "name": "dim", "params": {"level_pct": 40}},
            {"asset_id": light, "name": "dim", "params": {"level_pct": 60, "ramp_s": 5}},
            {"asset_id": signals, "name": "set_plan", "params": {"plan": 2}},
        ],
        "POST /api/v1/command-batches": [
            {
                "type": "streetlight",
                "name": "dim",
                "params": {"level_pct": 30},
                "target": {"kind": "ids", "asset_ids": lights},
            }
        ],
    }


def _format(schema: dict[str, Any]) -> str:
    for option in [schema, *schema.get("anyOf", [])]:
        if option.get("format") in ("date", "date-time"):
            return str(option["format"])
    return "other"


def query_kinds(openapi: dict[str, Any]) -> dict[str, dict[str, str]]:
    """For each operation (``GET /api/v1/alarms``), its query parameters and their kind:
    ``date``, ``date-time`` or ``other``."""
    out: dict[str, dict[str, str]] = {}
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            params = {
                p["name"]: _format(p.get("schema", {}))
                for p in operation.get("parameters", [])
                if p.get("in") == "query"
            }
            if params:
                out[f"{method.upper()} {path}"] = params
    return out


def setup(token: str, session: str, items: Sequence[AssetCreate], openapi: dict[str, Any]) -> str:
    """The hooks' setup, as the JSON of ``BEFFROI_FUZZ_SETUP``."""
    return json.dumps(
        {
            "token": token,
            "session": session,
            "bodies": plausible_bodies(items),
            "query": query_kinds(openapi),
        }
    )
