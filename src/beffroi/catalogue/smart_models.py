"""FIWARE Smart Data Models of the equipment catalogue: which entity type each equipment
type is shown as, and where each of its attributes comes from.

Data, as the catalogue is (:mod:`beffroi.catalogue.equipment`): the NGSI-LD facade
(:mod:`beffroi.ngsi`) reads it and writes no mapping of its own. Attribute names are the
Smart Data Models' (dataModel.Streetlighting, dataModel.Transportation,
dataModel.Environment, dataModel.Device); units are UN/CEFACT common codes, as NGSI-LD's
``unitCode`` wants. Loading refuses an attribute the catalogue lacks, as the catalogue
refuses its own inconsistencies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from beffroi.catalogue.registry import CATALOGUE
from beffroi.catalogue.spec import EquipmentType

SDM = "https://smartdatamodels.org/"


class Source(StrEnum):
    """Where an attribute's value is read."""

    TELEMETRY = "telemetry"  # the newest value of a telemetry key, with its time
    ATTRIBUTE = "attribute"  # an attribute of the asset (the catalogue's attribute schema)
    FIELD = "field"  # a field every asset has (name, commune, parent, installed_on…)
    STATUS = "status"  # the device's connectivity: online, last_seen_at, firmware


# The fields of every asset an attribute may name.
ASSET_FIELDS = frozenset({"name", "commune", "parent_id", "installed_on", "manufacturer", "model"})
# What the gateway knows of a device's connectivity.
STATUS_FIELDS = frozenset({"online", "last_seen_at", "firmware"})


class Convert(StrEnum):
    """How a stored value becomes the model's value."""

    SAME = "same"
    RATIO = "ratio"  # a percentage (0-100) as the models' fraction (0-1)
    KILO = "kilo"  # W as kW, Wh as kWh
    ON_OFF = "on_off"  # a light level: "on" above zero, else "off" (powerState)
    TEXT = "text"  # a number the model writes as text (a circuit number)
    ONLINE = "online"  # connectivity as Device's deviceState: "online" or "offline"


@dataclass(frozen=True, slots=True)
class SmartAttribute:
    """One attribute of an entity: its term, where it comes from, its unit.

    ``refers_to`` makes it a Relationship to an entity of that type (the value is an
    asset id, the object that entity's URN).
    """

    term: str
    source: Source
    name: str
    unit_code: str | None = None
    convert: Convert = Convert.SAME
    refers_to: str | None = None


@dataclass(frozen=True, slots=True)
class SmartModel:
    """The entity type an equipment type is shown as, and its attributes."""

    equipment_type: str
    entity_type: str
    # The model's namespace: each term's IRI is this followed by the term.
    namespace: str
    attributes: tuple[SmartAttribute, ...]

    def attribute(self, term: str) -> SmartAttribute | None:
        """The attribute of that term, if the model has it."""
        return next((a for a in self.attributes if a.term == term), None)


T, A, F, S = Source.TELEMETRY, Source.ATTRIBUTE, Source.FIELD, Source.STATUS
NAME = SmartAttribute("name", F, "name")
AREA = SmartAttribute("areaServed", F, "commune")
STARTED = SmartAttribute("dateServiceStarted", F, "installed_on")
LIGHTING = SDM + "dataModel.Streetlighting/"
TRANSPORT = SDM + "dataModel.Transportation/"
ENVIRONMENT = SDM + "dataModel.Environment/"
DEVICE_NS = SDM + "dataModel.Device/"

# The Device entity every asset also is (cameras aside: see beffroi.ngsi.service).
DEVICE = "Device"
DEVICE_ATTRIBUTES: tuple[SmartAttribute, ...] = (
    NAME,
    AREA,
    SmartAttribute("manufacturerName", F, "manufacturer"),
    SmartAttribute("modelName", F, "model"),
    SmartAttribute("dateInstalled", F, "installed_on"),
    SmartAttribute("deviceState", S, "online", convert=Convert.ONLINE),
    SmartAttribute("dateLastValueReported", S, "last_seen_at"),
    SmartAttribute("firmwareVersion", S, "firmware"),
)
# The relationships between an asset's two entities: its Device controls the modelled one.
CONTROLLED_ASSET = "controlledAsset"
REF_DEVICE = "refDevice"

MODELS: tuple[SmartModel, ...] = (
    SmartModel(
        "streetlight",
        "Streetlight",
        LIGHTING,
        (
            NAME,
            AREA,
            STARTED,
            SmartAttribute("powerState", T, "level_pct", convert=Convert.ON_OFF),
            SmartAttribute("illuminanceLevel", T, "level_pct", convert=Convert.RATIO),
            SmartAttribute("powerConsumption", T, "power_w", "WTT"),
            SmartAttribute("voltage", T, "voltage_v", "VLT"),
            SmartAttribute("lanternHeight", A, "mounting_height_m", "MTR"),
            SmartAttribute("powerRating", A, "rated_power_w", "WTT"),
            SmartAttribute("circuit", A, "circuit", convert=Convert.TEXT),
            SmartAttribute(
                "refStreetlightControlCabinet",
                F,
                "parent_id",
                refers_to="StreetlightControlCabinet",
            ),
        ),
    ),
    SmartModel(
        "lighting_cabinet",
        "StreetlightControlCabinet",
        LIGHTING,
        (
            NAME,
            AREA,
            STARTED,
            SmartAttribute("totalActivePower", T, "power_w", "KWT", Convert.KILO),
            SmartAttribute("energyConsumed", T, "energy_wh", "KWH", Convert.KILO),
            SmartAttribute("voltageR", T, "voltage_l1_v", "VLT"),
            SmartAttribute("voltageS", T, "voltage_l2_v", "VLT"),
            SmartAttribute("voltageT", T, "voltage_l3_v", "VLT"),
            SmartAttribute("workingMode", T, "mode"),
            SmartAttribute("maximumPowerAvailable", A, "contract_power_kva", "KVA"),
            SmartAttribute("serialNumber", A, "meter_id"),
        ),
    ),
    SmartModel(
        "traffic_counter",
        "TrafficFlowObserved",
        TRANSPORT,
        (
            NAME,
            AREA,
            SmartAttribute("intensity", T, "count"),
            SmartAttribute("occupancy", T, "occupancy_pct", convert=Convert.RATIO),
            SmartAttribute("averageVehicleSpeed", T, "speed_kmh", "KMH"),
        ),
    ),
    SmartModel(
        "car_park",
        "OffStreetParking",
        TRANSPORT,
        (
            NAME,
            AREA,
            SmartAttribute("availableSpotNumber", T, "free_spaces"),
            SmartAttribute("totalSpotNumber", A, "capacity"),
        ),
    ),
    SmartModel(
        "air_quality_station",
        "AirQualityObserved",
        ENVIRONMENT,
        (
            NAME,
            AREA,
            SmartAttribute("no2", T, "no2_ugm3", "GQ"),
            SmartAttribute("pm10", T, "pm10_ugm3", "GQ"),
            SmartAttribute("pm25", T, "pm25_ugm3", "GQ"),
            SmartAttribute("o3", T, "o3_ugm3", "GQ"),
        ),
    ),
)


def check_models(
    models: tuple[SmartModel, ...], catalogue: Mapping[str, EquipmentType]
) -> dict[str, SmartModel]:
    """The models by equipment type, once each attribute is known to the catalogue: a
    telemetry key the type reports, an attribute of its schema, an asset field.

    Raises ``ValueError`` naming the first problem, as the catalogue's own checks do.
    """
    out: dict[str, SmartModel] = {}
    for model in models:
        spec = catalogue.get(model.equipment_type)
        where = f"{model.entity_type} ({model.equipment_type})"
        if spec is None:
            raise ValueError(f"{where}: no equipment type {model.equipment_type!r}")
        if model.equipment_type in out:
            raise ValueError(f"{where}: mapped twice")
        if spec.smart_data_model not in (None, model.entity_type):
            raise ValueError(f"{where}: the catalogue names {spec.smart_data_model!r}")
        check_attributes(where, model.attributes, spec)
        out[model.equipment_type] = model
    return out


def check_attributes(
    where: str, attributes: tuple[SmartAttribute, ...], spec: EquipmentType | None
) -> None:
    """Refuse an attribute whose source the catalogue lacks (``spec`` None: only asset
    fields are allowed), or a term given twice."""
    terms = [a.term for a in attributes]
    if len(set(terms)) != len(terms):
        raise ValueError(f"{where}: a term is given twice")
    for attribute in attributes:
        known = (attribute.source is Source.FIELD and attribute.name in ASSET_FIELDS) or (
            attribute.source is Source.STATUS and attribute.name in STATUS_FIELDS
        )
        if spec is not None and attribute.source is Source.TELEMETRY:
            key = spec.telemetry_key(attribute.name)
            known = key is not None and not key.indexed
        if spec is not None and attribute.source is Source.ATTRIBUTE:
            known = attribute.name in spec.attributes.get("properties", {})
        if not known:
            raise ValueError(
                f"{where}.{attribute.term}: the catalogue has no {attribute.source.value} "
                f"{attribute.name!r}"
            )


SMART_MODELS = check_models(MODELS, CATALOGUE)
check_attributes(DEVICE, DEVICE_ATTRIBUTES, None)
