"""The service vehicle: salting trucks, patrols and field crews that report where they are
over the device API, as any device does (docs/vehicles.md)."""

from __future__ import annotations

from beffroi.catalogue.shapes import closed_object as _object
from beffroi.catalogue.shapes import enum as _enum
from beffroi.catalogue.shapes import integer as _int
from beffroi.catalogue.shapes import text as _text
from beffroi.catalogue.spec import EquipmentType, TelemetryKey, ValueKind
from beffroi.core.vocabulary import Domain

N = ValueKind.NUMBER

# What a vehicle does: a salting truck's tracks complete the salting routes.
VEHICLE_KINDS = ("salting_truck", "patrol", "field_crew")

VEHICLE = EquipmentType(
    key="vehicle",
    label="Service vehicle",
    label_fr="Véhicule de service",
    domain=Domain.ROADS,
    smart_data_model="Vehicle",
    # A tracker reports every few seconds while the vehicle moves; parked at the depot
    # overnight it may sleep for hours, which is no fault.
    report_interval_s=5,
    silence_timeout_s=24 * 3600,
    # Without a kind, a vehicle counts as a field crew's (docs/vehicles.md).
    attributes=_object(
        kind=_enum(*VEHICLE_KINDS),
        # The interventions team that crews the vehicle (interventions/teams.py).
        team_id=_int(1, 2**31 - 1),
        plate=_text(20),
    ),
    telemetry=(
        TelemetryKey("lat", N, "°", -90, 90, description="Latitude (WGS84)"),
        TelemetryKey("lon", N, "°", -180, 180, description="Longitude (WGS84)"),
        TelemetryKey("speed_kmh", N, "km/h", 0, 250, description="Ground speed"),
        TelemetryKey("heading_deg", N, "°", 0, 360, description="Course over ground"),
    ),
)
