"""The parameters of each kind of rule: a JSON Schema, then the checks a schema cannot say
(the key belongs to the type, hysteresis on the safe side). Each error names
``params.<field>``."""

from __future__ import annotations

import math
from typing import Any, Final

from beffroi.catalogue import Domain, EquipmentType, ValueKind, schema_errors
from beffroi.core.errors import FieldError
from beffroi.rules.conditions import RuleKind

_KEY: Final = {"type": "string", "minLength": 1, "maxLength": 64}
# Wider than any telemetry range of the catalogue; keeps stored rules sane.
_NUMBER: Final = {"type": "number", "minimum": -1e15, "maximum": 1e15}
_SECONDS: Final = {"type": "number", "minimum": 0, "maximum": 7 * 86_400}

SCHEMAS: Final[dict[RuleKind, dict[str, Any]]] = {
    RuleKind.THRESHOLD: {
        "type": "object",
        "additionalProperties": False,
        "required": ["key", "op", "value", "clear_value"],
        "properties": {
            "key": _KEY,
            "op": {"enum": [">", "<"]},
            "value": _NUMBER,
            "clear_value": _NUMBER,
            "for_s": _SECONDS,
        },
    },
    RuleKind.NO_DATA: {
        "type": "object",
        "additionalProperties": False,
        "required": ["minutes"],
        "properties": {
            "key": {**_KEY, "type": ["string", "null"]},
            "minutes": {"type": "number", "exclusiveMinimum": 0, "maximum": 7 * 1440},
        },
    },
    RuleKind.STATE_MISMATCH: {
        "type": "object",
        "additionalProperties": False,
        "required": ["key", "op", "value", "when"],
        "properties": {
            "key": _KEY,
            "op": {"enum": [">", "<", ">=", "<=", "==", "!="]},
            "value": {**_NUMBER, "type": ["number", "string"], "maxLength": 200},
            "when": {"enum": ["daylight", "night"]},
            "margin_min": {"type": "number", "minimum": 0, "maximum": 180},
            "for_s": _SECONDS,
        },
    },
    RuleKind.RATE_OF_CHANGE: {
        "type": "object",
        "additionalProperties": False,
        "required": ["key", "max_delta", "per_s"],
        "properties": {
            "key": _KEY,
            "max_delta": {**_NUMBER, "exclusiveMinimum": 0},
            "per_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 86_400},
        },
    },
    RuleKind.LIGHTING_DRIFT: {
        "type": "object",
        "additionalProperties": False,
        "required": ["tolerance_pct", "delay_s"],
        "properties": {
            "key": _KEY,
            "tolerance_pct": {"type": "number", "minimum": 0, "maximum": 100},
            "delay_s": _SECONDS,
        },
    },
}

NUMERIC = frozenset({ValueKind.NUMBER, ValueKind.INTEGER, ValueKind.BOOLEAN})
_NUMERIC_KINDS = frozenset({RuleKind.THRESHOLD, RuleKind.RATE_OF_CHANGE, RuleKind.LIGHTING_DRIFT})


def param_errors(kind: RuleKind, spec: EquipmentType, params: Any) -> list[FieldError]:
    """Everything wrong with a rule's ``params`` for a type of equipment."""
    if isinstance(params, dict):
        # JSON bodies may carry NaN or Infinity, which JSON Schema lets through.
        odd = [n for n, v in params.items() if isinstance(v, float) and not math.isfinite(v)]
        if odd:
            return [FieldError(f"params.{n}", "must be a finite number") for n in odd]
    if kind is RuleKind.LIGHTING_DRIFT and (spec.domain is not Domain.LIGHTING or spec.cabinet):
        return [FieldError("asset_type", f"a lighting drift rule watches lights, not a {spec.key}")]
    errors = schema_errors(SCHEMAS[kind], params, "params")
    if errors:
        # schema_errors names each missing field once per missing field: keep one.
        return list(dict.fromkeys(errors))
    key = params.get("key")
    if key is None and kind is RuleKind.LIGHTING_DRIFT:
        key = "level_pct"  # what a light reports of its output (the catalogue's name)
    if key is None:
        return []
    telemetry = spec.telemetry_key(key)
    if telemetry is not None and telemetry.indexed and telemetry.key == key:
        example = key.replace("{n}", "1")
        return [FieldError("params.key", f"name one of them, e.g. {example!r}")]
    if telemetry is None:
        known = [t.key for t in spec.telemetry]
        return [FieldError("params.key", f"{spec.key} reports no {key!r}; known: {known}")]
    numeric = telemetry.kind in NUMERIC
    if (
        kind in (RuleKind.THRESHOLD, RuleKind.RATE_OF_CHANGE, RuleKind.LIGHTING_DRIFT)
        and not numeric
    ):
        return [FieldError("params.key", f"{key} is {telemetry.kind.value}, not a number")]
    if kind is RuleKind.THRESHOLD:
        return _hysteresis(params)
    if kind is RuleKind.STATE_MISMATCH:
        return _mismatch(params, numeric, telemetry.choices)
    return []


def _hysteresis(params: dict[str, Any]) -> list[FieldError]:
    value, clear = params["value"], params["clear_value"]
    if params["op"] == ">" and not clear < value:
        return [FieldError("params.clear_value", f"must be below value ({value}) for op '>'")]
    if params["op"] == "<" and not clear > value:
        return [FieldError("params.clear_value", f"must be above value ({value}) for op '<'")]
    return []


def _mismatch(params: dict[str, Any], numeric: bool, choices: tuple[str, ...]) -> list[FieldError]:
    value = params["value"]
    if isinstance(value, str):
        if numeric:
            return [FieldError("params.value", f"{params['key']} is a number; give a number")]
        if params["op"] not in ("==", "!="):
            return [FieldError("params.op", "text is compared with '==' or '!=' only")]
        if choices and value not in choices:
            return [FieldError("params.value", f"must be one of {list(choices)}")]
    elif not numeric:
        return [FieldError("params.value", f"{params['key']} is text; give a string")]
    return []
