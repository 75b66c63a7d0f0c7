"""JSON Schema shapes the catalogue's declarations are written with (attributes, command
parameters): short builders, so the tables stay readable."""

from __future__ import annotations

from typing import Any

from beffroi.catalogue.spec import JsonSchema


def closed_object(required: tuple[str, ...] = (), **properties: JsonSchema) -> JsonSchema:
    """A closed JSON Schema object: unknown fields are errors, not silently kept."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


def integer(minimum: int, maximum: int, **extra: Any) -> JsonSchema:
    return {"type": "integer", "minimum": minimum, "maximum": maximum, **extra}


def number(minimum: float, maximum: float, **extra: Any) -> JsonSchema:
    return {"type": "number", "minimum": minimum, "maximum": maximum, **extra}


def enum(*values: str) -> JsonSchema:
    return {"type": "string", "enum": list(values)}


def text(max_length: int, **extra: Any) -> JsonSchema:
    return {"type": "string", "minLength": 1, "maxLength": max_length, **extra}


BOOL: JsonSchema = {"type": "boolean"}
