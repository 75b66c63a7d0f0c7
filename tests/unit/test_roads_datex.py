"""The DATEX II SituationPublication, parsed back: one situation per road situation,
the record type of its kind, its validity, impact and location, in DATEX II's order
of coordinates (lat lon)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import etree

from beffroi.roads import datex
from beffroi.roads.situation import IncidentKind, SituationType, Status

NS = datex.NS
XSI = f"{{{NS['xsi']}}}type"
START = datetime(2026, 3, 2, 7, tzinfo=UTC)
LINE = {"type": "LineString", "coordinates": [[5.0, 47.33], [5.01, 47.335]]}
SCHEMA = Path(__file__).resolve().parents[1] / "data" / "datex2" / "d2Payload.xsd"


def record(id: int, kind: SituationType, **extra: Any) -> datex.Record:
    base: dict[str, Any] = {
        "id": id,
        "version": 2,
        "type": kind,
        "status": Status.ACTIVE,
        "road": "Rue de la Liberté",
        "geometry": LINE,
        "starts_at": START,
        "ends_at": START + timedelta(days=4),
        "created_at": START - timedelta(days=1),
        "updated_at": START - timedelta(hours=1),
    }
    return datex.Record(**{**base, **extra})


def parsed(*records: datex.Record) -> ET.Element:
    body = datex.to_bytes(
        datex.publication(records, published_at=START, country="FR", national_id="beffroi")
    )
    assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(body)  # noqa: S314 - our own document


def test_each_kind_is_published_as_its_record_type() -> None:
    root = parsed(
        record(1, SituationType.ROADWORKS, lanes_closed=1, delay_min=10),
        record(2, SituationType.CLOSURE, road_closed=True, detour=LINE, speed_limit_kmh=None),
        record(3, SituationType.EVENT),
        record(4, SituationType.INCIDENT, incident=IncidentKind.ACCIDENT, ends_at=None),
        record(5, SituationType.INCIDENT, incident=IncidentKind.OBSTRUCTION, speed_limit_kmh=50),
    )
    assert root.tag == f"{{{NS['d2']}}}payload"
    assert root.get(XSI) == "sit:SituationPublication"
    assert root.findtext("com:publicationTime", namespaces=NS) == "2026-03-02T07:00:00+00:00"
    assert root.findtext("com:publicationCreator/com:country", namespaces=NS) == "FR"
    situations = root.findall("sit:situation", NS)
    assert [s.get("id") for s in situations] == ["1", "2", "3", "4", "5"]
    kinds = [[r.get(XSI) for r in s.findall("sit:situationRecord", NS)] for s in situations]
    assert kinds == [
        ["sit:MaintenanceWorks"],
        ["sit:RoadOrCarriagewayOrLaneManagement", "sit:ReroutingManagement"],
        ["sit:PublicEvent"],
        ["sit:Accident"],
        ["sit:GeneralObstruction", "sit:SpeedManagement"],
    ]
    works = situations[0].find("sit:situationRecord", NS)
    assert works is not None
    assert works.get("id") == "1-main"
    assert works.get("version") == "2"
    assert works.findtext("sit:roadMaintenanceType", namespaces=NS) == "roadworks"
    assert works.findtext("sit:impact/sit:numberOfLanesRestricted", namespaces=NS) == "1"
    assert works.findtext("sit:impact/sit:delays/sit:delayTimeValue", namespaces=NS) == "600"
    spec = "sit:validity/com:validityTimeSpecification/"
    assert works.findtext(spec + "com:overallStartTime", namespaces=NS) == START.isoformat()
    assert works.findtext(spec + "com:overallEndTime", namespaces=NS) == "2026-03-06T07:00:00+00:00"
    comment = works.findtext(
        "sit:generalPublicComment/sit:comment/com:values/com:value", namespaces=NS
    )
    assert comment == "Travaux : Rue de la Liberté"
    # GML's order is lat lon: the GeoJSON's (lon, lat) swapped.
    location = works.find("sit:locationReference", NS)
    assert location is not None
    assert location.get(XSI) == "loc:LinearLocation"
    assert location.findtext("loc:gmlLineString/loc:posList", namespaces=NS) == (
        "47.330000 5.000000 47.335000 5.010000"
    )
    closure = situations[1].find("sit:situationRecord", NS)
    assert closure is not None
    assert (
        closure.findtext("sit:roadOrCarriagewayOrLaneManagementType", namespaces=NS) == "roadClosed"
    )
    assert situations[1].findtext("sit:overallSeverity", namespaces=NS) == "high"
    accident = situations[3].find("sit:situationRecord", NS)
    assert accident is not None
    assert accident.find(spec + "com:overallEndTime", NS) is None
    speed = situations[4].findall("sit:situationRecord", NS)[1]
    assert speed.findtext("sit:temporarySpeedLimit", namespaces=NS) == "50.0"


def test_areas_and_multi_lines_keep_every_part() -> None:
    square = {
        "type": "Polygon",
        "coordinates": [[[5.0, 47.3], [5.01, 47.3], [5.01, 47.31], [5.0, 47.3]]],
    }
    two = {
        "type": "MultiLineString",
        "coordinates": [LINE["coordinates"], [[5.02, 47.3], [5.03, 47.3]]],
    }
    root = parsed(
        record(1, SituationType.EVENT, geometry=square),
        record(2, SituationType.CLOSURE, geometry=two),
    )
    area = root.find("sit:situation/sit:situationRecord/sit:locationReference", NS)
    assert area is not None
    assert area.get(XSI) == "loc:AreaLocation"
    rings = area.findall("loc:gmlMultiPolygon/loc:gmlPolygon/loc:exterior/loc:posList", NS)
    assert [r.text for r in rings] == [
        "47.300000 5.000000 47.300000 5.010000 47.310000 5.010000 47.300000 5.000000"
    ]
    group = root.findall("sit:situation", NS)[1].find(
        "sit:situationRecord/sit:locationReference", NS
    )
    assert group is not None
    assert group.get(XSI) == "loc:LocationGroupByList"
    assert len(group.findall("loc:locationContainedInGroup", NS)) == 2


def test_nothing_to_publish_is_an_empty_publication() -> None:
    root = parsed()
    assert root.findall("sit:situation", NS) == []
    assert (
        root.findtext("com:publicationCreator/com:nationalIdentifier", namespaces=NS) == "beffroi"
    )


def test_every_kind_is_valid_against_the_schema() -> None:
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    square = {
        "type": "Polygon",
        "coordinates": [[[5.0, 47.3], [5.01, 47.3], [5.01, 47.31], [5.0, 47.3]]],
    }
    two = {"type": "MultiLineString", "coordinates": [LINE["coordinates"], LINE["coordinates"]]}
    records = [
        record(1, SituationType.CLOSURE, road_closed=True, detour=LINE, lanes_closed=2),
        record(2, SituationType.ROADWORKS, speed_limit_kmh=30, delay_min=5, geometry=two),
        record(3, SituationType.EVENT, geometry=square, ends_at=None),
        *(
            record(10 + i, SituationType.INCIDENT, incident=kind)
            for i, kind in enumerate(IncidentKind)
        ),
    ]
    body = datex.to_bytes(
        datex.publication(records, published_at=START, country="FR", national_id="beffroi")
    )
    document = etree.fromstring(body)
    assert schema.validate(document), schema.error_log
    # The check can fail: a record without its validity is refused.
    validity = document.find(".//sit:situationRecord/sit:validity", NS)
    assert validity is not None
    validity.getparent().remove(validity)
    assert not schema.validate(document)
