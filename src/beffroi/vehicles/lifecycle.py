"""Vocabulary of the vehicles area that other areas and the console may name."""

from __future__ import annotations

from enum import StrEnum

from beffroi.catalogue.vehicle import VEHICLE_KINDS

VEHICLE_TYPE = "vehicle"


class VehicleKind(StrEnum):
    """What a vehicle does (the catalogue's ``kind`` attribute)."""

    SALTING_TRUCK = "salting_truck"
    PATROL = "patrol"
    FIELD_CREW = "field_crew"


assert tuple(VehicleKind) == VEHICLE_KINDS  # one vocabulary, said twice for the types

DEFAULT_KIND = VehicleKind.FIELD_CREW


def kind_of(attributes: dict[str, object]) -> VehicleKind:
    """A vehicle's kind from its attributes (a field crew's when it says none)."""
    value = attributes.get("kind")
    return VehicleKind(value) if value in VEHICLE_KINDS else DEFAULT_KIND


def team_of(attributes: dict[str, object]) -> int | None:
    """The team that crews the vehicle, if it says."""
    value = attributes.get("team_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None
