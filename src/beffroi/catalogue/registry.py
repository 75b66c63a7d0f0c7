"""Look-ups and validation over the equipment catalogue."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import cached_property
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from beffroi.catalogue.equipment import EQUIPMENT_TYPES
from beffroi.catalogue.spec import EquipmentType, JsonSchema
from beffroi.core.dates import instant_in_range
from beffroi.core.errors import FieldError
from beffroi.core.vocabulary import Domain
from beffroi.http.jsonvalues import NOT_FINITE, non_finite_paths


# jsonschema checks "date-time" only with an optional package, and would accept year 1:
# an instant sent to a device is ISO 8601 with its offset, within Beffroi's dates.
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # the type keyword speaks for other values
    parsed = datetime.fromisoformat(value)
    return parsed.tzinfo is not None and instant_in_range(parsed)


FORMATS = FormatChecker()
FORMATS.checks("date-time", raises=ValueError)(_date_time)


def schema_errors(schema: JsonSchema, value: Any, prefix: str) -> list[FieldError]:
    """Validate ``value`` against a JSON Schema; each error names its field under ``prefix``.

    A non-finite number anywhere is refused too: JSON Schema's ``number`` takes NaN, which
    passes ``minimum`` and ``maximum`` alike (this check serves every caller, HTTP or not).
    """
    validator = _validator(schema)
    not_finite = non_finite_paths(value, prefix)
    errors = [FieldError(path, NOT_FINITE) for path in not_finite]
    for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in error.absolute_path)
        if (f"{prefix}.{path}" if path else prefix) in not_finite:
            continue  # said once: Infinity is also above any maximum
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            for extra in sorted(set(error.instance) - allowed):
                where = f"{prefix}.{path}.{extra}" if path else f"{prefix}.{extra}"
                errors.append(FieldError(where, f"unknown field; allowed: {sorted(allowed)}"))
            continue
        if error.validator == "required" and isinstance(error.validator_value, list):
            missing = [r for r in error.validator_value if r not in error.instance]
            for name in missing:
                where = f"{prefix}.{path}.{name}" if path else f"{prefix}.{name}"
                errors.append(FieldError(where, "required"))
            continue
        errors.append(FieldError(f"{prefix}.{path}" if path else prefix, error.message))
    return errors


_VALIDATORS: dict[int, Draft202012Validator] = {}


def _validator(schema: JsonSchema) -> Draft202012Validator:
    # Schemas are module-level constants of the catalogue: cache their compiled validator.
    key = id(schema)
    validator = _VALIDATORS.get(key)
    if validator is None:
        validator = Draft202012Validator(schema, format_checker=FORMATS)
        _VALIDATORS[key] = validator
    return validator


class Catalogue(Mapping[str, EquipmentType]):
    """The equipment types by key."""

    def __init__(self, types: tuple[EquipmentType, ...]) -> None:
        self._types = {t.key: t for t in types}
        for spec in types:
            Draft202012Validator.check_schema(spec.attributes)
            for command in spec.commands:
                Draft202012Validator.check_schema(command.params)
                for name, _ in (*command.critical_when, *command.off_when):
                    if name not in command.params.get("properties", {}):
                        raise ValueError(f"{spec.key}.{command.name}: no parameter {name!r}")
            for parent in spec.parent_types:
                if parent not in self._types:
                    raise ValueError(f"{spec.key}: unknown parent type {parent!r}")
            meter = spec.energy_meter and spec.telemetry_key(spec.energy_meter)
            if spec.energy_meter and not (meter and meter.counter):
                raise ValueError(f"{spec.key}: energy meter {spec.energy_meter!r} is no counter")
            if spec.rated_power and spec.rated_power not in spec.attributes.get("properties", {}):
                raise ValueError(f"{spec.key}: no attribute {spec.rated_power!r}")
            declared: tuple[str, ...] = ()
            if spec.renovation:
                declared += (spec.renovation.former_power, spec.renovation.former_hours)
            if spec.lamp_life:
                declared += spec.lamp_life.attributes()
            for name in declared:
                if name not in spec.attributes.get("properties", {}):
                    raise ValueError(f"{spec.key}: no attribute {name!r}")

    def of_domain(self, domain: Domain, *, cabinet: bool | None = None) -> list[EquipmentType]:
        """The types of ``domain`` (only its cabinets, or none of them, if ``cabinet`` says)."""
        return [
            t
            for t in self._types.values()
            if t.domain is domain and (cabinet is None or t.cabinet is cabinet)
        ]

    def __getitem__(self, key: str) -> EquipmentType:
        return self._types[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    @cached_property
    def keys_sorted(self) -> list[str]:
        """Type keys in catalogue order."""
        return list(self._types)

    def require(self, key: str, field: str = "type") -> EquipmentType:
        """The type, or an :class:`InvalidInput`-ready error naming the allowed keys."""
        spec = self._types.get(key)
        if spec is None:
            from beffroi.core.errors import InvalidInput

            raise InvalidInput(
                FieldError(field, f"unknown equipment type {key!r}; known: {self.keys_sorted}")
            )
        return spec

    def attribute_errors(self, type_key: str, attributes: Any) -> list[FieldError]:
        """Errors of ``attributes`` against the type's attribute schema."""
        return schema_errors(self._types[type_key].attributes, attributes, "attributes")


CATALOGUE = Catalogue(EQUIPMENT_TYPES)
