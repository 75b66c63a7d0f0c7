"""The declarative equipment catalogue: types, telemetry, faults and commands."""

from beffroi.catalogue.registry import CATALOGUE, Catalogue, schema_errors
from beffroi.catalogue.spec import (
    CommandSpec,
    EquipmentType,
    FaultCode,
    LampLife,
    Renovation,
    Severity,
    TelemetryKey,
    ValueKind,
)
from beffroi.core.vocabulary import Domain

__all__ = [
    "CATALOGUE",
    "Catalogue",
    "CommandSpec",
    "Domain",
    "EquipmentType",
    "FaultCode",
    "LampLife",
    "Renovation",
    "Severity",
    "TelemetryKey",
    "ValueKind",
    "schema_errors",
]
