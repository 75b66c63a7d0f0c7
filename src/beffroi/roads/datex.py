"""Road situations as a DATEX II (v3) SituationPublication, the XML the French road
authorities (Bison Futé, the DIR) exchange with navigation services.

One ``situation`` per road situation, holding its records: the situation itself
(MaintenanceWorks for works, RoadOrCarriagewayOrLaneManagement for closures,
PublicEvent, Accident or GeneralObstruction for incidents), then a SpeedManagement record
when a speed limit applies and a ReroutingManagement record along the detour. Locations
are GML line strings or polygons of "lat lon" pairs (DATEX II's order, not GeoJSON's).
Built with the standard library's ElementTree: the document is small and flat.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beffroi.roads.situation import IncidentKind, SituationType, Status

NS = {
    "d2": "http://datex2.eu/schema/3/d2Payload",
    "com": "http://datex2.eu/schema/3/common",
    "sit": "http://datex2.eu/schema/3/situation",
    "loc": "http://datex2.eu/schema/3/locationReferencing",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)
XSI_TYPE = f"{{{NS['xsi']}}}type"

# The record type of each kind of situation, and the value of its own element.
_RECORD: dict[SituationType, tuple[str, str, str]] = {
    SituationType.ROADWORKS: ("MaintenanceWorks", "roadMaintenanceType", "roadworks"),
    SituationType.CLOSURE: (
        "RoadOrCarriagewayOrLaneManagement",
        "roadOrCarriagewayOrLaneManagementType",
        "roadClosed",
    ),
    SituationType.EVENT: ("PublicEvent", "publicEventType", "other"),
}
_INCIDENT: dict[IncidentKind, tuple[str, str, str]] = {
    IncidentKind.ACCIDENT: ("Accident", "accidentType", "accident"),
    IncidentKind.BROKEN_DOWN_VEHICLE: (
        "VehicleObstruction",
        "vehicleObstructionType",
        "brokenDownVehicle",
    ),
    IncidentKind.OBSTRUCTION: ("GeneralObstruction", "obstructionType", "objectOnTheRoad"),
    IncidentKind.FLOODING: ("EnvironmentalObstruction", "environmentalObstructionType", "flooding"),
    IncidentKind.OTHER: ("GeneralObstruction", "obstructionType", "other"),
}

# The public comment of each kind of situation (French: the publication's language).
_WORDS: dict[SituationType, str] = {
    SituationType.ROADWORKS: "Travaux",
    SituationType.CLOSURE: "Route fermée",
    SituationType.EVENT: "Événement",
    SituationType.INCIDENT: "Incident",
}
_INCIDENT_WORDS: dict[IncidentKind, str] = {
    IncidentKind.ACCIDENT: "Accident",
    IncidentKind.BROKEN_DOWN_VEHICLE: "Véhicule en panne",
    IncidentKind.OBSTRUCTION: "Obstacle sur la chaussée",
    IncidentKind.FLOODING: "Inondation",
    IncidentKind.OTHER: "Incident",
}


@dataclass(frozen=True, slots=True)
class Record:
    """A road situation as published."""

    id: int
    version: int
    type: SituationType
    status: Status
    road: str
    geometry: dict[str, Any]
    starts_at: datetime
    ends_at: datetime | None
    created_at: datetime
    updated_at: datetime
    incident: IncidentKind | None = None
    road_closed: bool = False
    lanes_closed: int | None = None
    speed_limit_kmh: int | None = None
    delay_min: int | None = None
    detour: dict[str, Any] | None = None


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    prefix, name = tag.split(":")
    node = ET.SubElement(parent, f"{{{NS[prefix]}}}{name}", attrs)
    if text is not None:
        node.text = text
    return node


def _typed(parent: ET.Element, tag: str, xsi_type: str, **attrs: str) -> ET.Element:
    node = _el(parent, tag, **attrs)
    node.set(XSI_TYPE, xsi_type)
    return node


def _when(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _pos_list(points: Sequence[Sequence[float]]) -> str:
    return " ".join(f"{p[1]:.6f} {p[0]:.6f}" for p in points)


def _lines(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "LineString":
        return [geometry["coordinates"]]
    return list(geometry["coordinates"])


def _location(parent: ET.Element, geometry: dict[str, Any]) -> None:
    """A line as a LinearLocation (one per part), an area as an AreaLocation."""
    if geometry["type"] in {"LineString", "MultiLineString"}:
        parts = _lines(geometry)
        holder = parent
        if len(parts) > 1:
            holder = _typed(parent, "sit:locationReference", "loc:LocationGroupByList")
        for part in parts:
            tag = "loc:locationContainedInGroup" if len(parts) > 1 else "sit:locationReference"
            linear = _typed(holder, tag, "loc:LinearLocation")
            line = _el(linear, "loc:gmlLineString", srsName="EPSG:4326")
            _el(line, "loc:posList", _pos_list(part))
        return
    polygons = (
        [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    )
    area = _typed(parent, "sit:locationReference", "loc:AreaLocation")
    # DATEX II's multipolygon takes no srsName: its positions are WGS 84 by definition.
    multi = _el(area, "loc:gmlMultiPolygon")
    for rings in polygons:
        polygon = _el(multi, "loc:gmlPolygon")
        _el(_el(polygon, "loc:exterior"), "loc:posList", _pos_list(rings[0]))
        for hole in rings[1:]:
            _el(_el(polygon, "loc:interior"), "loc:posList", _pos_list(hole))


def _record_head(situation: ET.Element, record: Record, suffix: str, xsi_type: str) -> ET.Element:
    node = _typed(
        situation,
        "sit:situationRecord",
        f"sit:{xsi_type}",
        id=f"{record.id}-{suffix}",
        version=str(record.version),
    )
    _el(node, "sit:situationRecordCreationTime", _when(record.created_at))
    _el(node, "sit:situationRecordVersionTime", _when(record.updated_at))
    _el(node, "sit:probabilityOfOccurrence", "certain")
    validity = _el(node, "sit:validity")
    _el(validity, "com:validityStatus", "definedByValidityTimeSpec")
    spec = _el(validity, "com:validityTimeSpecification")
    _el(spec, "com:overallStartTime", _when(record.starts_at))
    if record.ends_at is not None:
        _el(spec, "com:overallEndTime", _when(record.ends_at))
    return node


def _impact(node: ET.Element, record: Record) -> None:
    if record.lanes_closed is None and record.delay_min is None and not record.road_closed:
        return
    impact = _el(node, "sit:impact")
    if record.road_closed:
        _el(impact, "sit:capacityRemaining", "0")
    if record.lanes_closed is not None:
        _el(impact, "sit:numberOfLanesRestricted", str(record.lanes_closed))
    if record.delay_min is not None:
        delays = _el(impact, "sit:delays")
        _el(delays, "sit:delayTimeValue", str(record.delay_min * 60))


def _comment(node: ET.Element, text: str) -> None:
    comment = _el(node, "sit:generalPublicComment")
    values = _el(_el(comment, "sit:comment"), "com:values")
    _el(values, "com:value", text, lang="fr")


def _main_record(situation: ET.Element, record: Record) -> None:
    if record.type is SituationType.INCIDENT:
        kind, element, value = _INCIDENT[record.incident or IncidentKind.OTHER]
    else:
        kind, element, value = _RECORD[record.type]
    node = _record_head(situation, record, "main", kind)
    _impact(node, record)
    # Said from the record's facts, never its title or description: text typed by
    # people is not published (it may name them), as for open data.
    what = _INCIDENT_WORDS[record.incident] if record.incident else _WORDS[record.type]
    _comment(node, f"{what} : {record.road}" if record.road else what)
    _location(node, record.geometry)
    if kind == "RoadOrCarriagewayOrLaneManagement":
        # Network management records say whether drivers must or may follow them.
        _el(node, "sit:complianceOption", "mandatory")
    _el(node, f"sit:{element}", value)


def _extra_records(situation: ET.Element, record: Record) -> None:
    if record.speed_limit_kmh is not None:
        node = _record_head(situation, record, "speed", "SpeedManagement")
        _location(node, record.geometry)
        _el(node, "sit:complianceOption", "mandatory")
        _el(node, "sit:speedManagementType", "speedRestrictionInOperation")
        _el(node, "sit:temporarySpeedLimit", f"{record.speed_limit_kmh:.1f}")
    if record.detour is not None:
        node = _record_head(situation, record, "detour", "ReroutingManagement")
        _location(node, record.detour)
        _el(node, "sit:complianceOption", "advisory")
        _el(node, "sit:reroutingManagementType", "followDiversionSigns")


def publication(
    records: Iterable[Record], *, published_at: datetime, country: str, national_id: str
) -> ET.Element:
    """The SituationPublication of ``records`` (the payload, ready to serialise)."""
    root = ET.Element(f"{{{NS['d2']}}}payload", {"lang": "fr", "modelBaseVersion": "3"})
    root.set(XSI_TYPE, "sit:SituationPublication")
    _el(root, "com:publicationTime", _when(published_at))
    creator = _el(root, "com:publicationCreator")
    _el(creator, "com:country", country)
    _el(creator, "com:nationalIdentifier", national_id)
    for record in records:
        # A situation has no version of its own in DATEX II v3: its records carry theirs.
        situation = _el(root, "sit:situation", id=str(record.id))
        _el(situation, "sit:overallSeverity", "high" if record.road_closed else "medium")
        _el(situation, "sit:situationVersionTime", _when(record.updated_at))
        header = _el(situation, "sit:headerInformation")
        _el(header, "com:confidentiality", "noRestriction")
        _el(header, "com:informationStatus", "real")
        _main_record(situation, record)
        _extra_records(situation, record)
    return root


def to_bytes(root: ET.Element) -> bytes:
    """The document as UTF-8 XML with its declaration."""
    out: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return out
