"""The Smart Data Models mapping beside the catalogue, the q parser and the geo-queries of
the NGSI-LD facade: pure checks, no database."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beffroi.catalogue import CATALOGUE
from beffroi.catalogue.smart_models import (
    MODELS,
    SMART_MODELS,
    SmartAttribute,
    Source,
    check_models,
)
from beffroi.core.errors import InvalidInput
from beffroi.ngsi import geo, query
from beffroi.ngsi.terms import KINDS, context_document, every_term, term_named


def _with(attribute: SmartAttribute) -> tuple[object, ...]:
    light = MODELS[0]
    return (dataclasses.replace(light, attributes=(*light.attributes, attribute)), *MODELS[1:])


@pytest.mark.parametrize(
    ("attribute", "says"),
    [
        (SmartAttribute("colour", Source.TELEMETRY, "colour_k"), "no telemetry 'colour_k'"),
        (SmartAttribute("lampType", Source.ATTRIBUTE, "lamp_kind"), "no attribute 'lamp_kind'"),
        (SmartAttribute("owner", Source.FIELD, "owner"), "no field 'owner'"),
        (SmartAttribute("signal", Source.STATUS, "rssi"), "no status 'rssi'"),
        (SmartAttribute("name", Source.FIELD, "name"), "a term is given twice"),
    ],
)
def test_loading_refuses_what_the_catalogue_lacks(attribute: SmartAttribute, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        check_models(_with(attribute), CATALOGUE)  # type: ignore[arg-type]


def test_loading_refuses_an_unknown_type_or_a_model_the_catalogue_contradicts() -> None:
    ghost = dataclasses.replace(MODELS[0], equipment_type="lamppost")
    with pytest.raises(ValueError, match="no equipment type 'lamppost'"):
        check_models((ghost,), CATALOGUE)
    renamed = dataclasses.replace(MODELS[0], entity_type="TrafficLight")
    with pytest.raises(ValueError, match="the catalogue names 'Streetlight'"):
        check_models((renamed,), CATALOGUE)
    with pytest.raises(ValueError, match="mapped twice"):
        check_models((MODELS[0], MODELS[0]), CATALOGUE)


def test_the_mapping_names_the_models_of_the_issue() -> None:
    assert {k: m.entity_type for k, m in SMART_MODELS.items()} == {
        "streetlight": "Streetlight",
        "lighting_cabinet": "StreetlightControlCabinet",
        "traffic_counter": "TrafficFlowObserved",
        "car_park": "OffStreetParking",
        "air_quality_station": "AirQualityObserved",
    }
    assert "Device" in KINDS


def test_the_context_defines_every_term_and_no_vocabulary_catch_all() -> None:
    context = context_document()["@context"]
    assert "@vocab" not in context
    for term in every_term():
        assert term in context
    assert context["refStreetlightControlCabinet"]["@type"] == "@id"


def _known(name: str) -> str | None:
    return term_named(name)


def test_q_parses_and_evaluates() -> None:
    values = {"powerState": "on", "illuminanceLevel": 0.4, "name": 'Rue "A"', "circuit": "2"}
    cases = {
        'powerState=="on"': True,
        'powerState!="on"': False,
        "illuminanceLevel>0.3;illuminanceLevel<=0.4": True,
        'illuminanceLevel>0.5|powerState=="on"': True,
        "(illuminanceLevel>0.5|illuminanceLevel<0.1);powerState": False,
        "illuminanceLevel==0.1..0.5": True,
        "illuminanceLevel!=0.1..0.5": False,
        'powerState=="off","on"': True,
        'powerState!="off","on"': False,
        "illuminanceLevel==0.4,0.9": True,
        'name=="Rue \\"A\\""': True,
        "voltage": False,  # absent
        'circuit>"1"': True,
        "circuit>1": False,  # a text is not a number
        "illuminanceLevel==true": False,
    }
    for text, expected in cases.items():
        assert query.matches(query.parse(text, _known), values) is expected, text
    parsed = query.parse('powerState=="on";(voltage>1|name)', _known)
    assert query.terms_of(parsed) == {"powerState", "voltage", "name"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "powerState=on",
        "powerState==on",
        "colour==1",
        "powerState==",
        "(powerState",
        "powerState)",
        "illuminanceLevel>1,2",
        "illuminanceLevel>1..2",
        "illuminanceLevel==NaN",
        "illuminanceLevel==1e999",
        "a" * 1001,
        "(" * 9 + "name" + ")" * 9,
        'name=="x";1==1',
        'name~="x"',
    ],
)
def test_q_refuses_naming_q(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        query.parse(text, _known)
    assert caught.value.errors[0].field == "q"


@given(st.text(max_size=200))
def test_q_never_raises_anything_but_invalid_input(text: str) -> None:
    fields: list[str] = []
    try:
        parsed = query.parse(text, _known)
    except InvalidInput as exc:
        fields = [e.field for e in exc.errors]
    else:
        query.matches(parsed, {"name": "x", "illuminanceLevel": 1.0})
    assert fields in ([], ["q"])


def test_geo_near_within_and_their_errors() -> None:
    near = geo.parse("near;maxDistance==1000", "Point", "[5.0, 47.3]")
    assert near is not None
    assert near.holds(5.0, 47.305)  # about 556 m north
    assert not near.holds(5.0, 47.31)  # about 1.1 km
    box = near.bbox()
    assert box is not None
    assert box[1] < 47.3 - 0.0089 < box[3]
    far = geo.parse("near;minDistance==1000", "Point", "[5.0, 47.3]")
    assert far is not None
    assert far.holds(5.0, 47.31)
    assert far.bbox() is None
    square = "[[[4.9,47.2],[5.1,47.2],[5.1,47.4],[4.9,47.4],[4.9,47.2]]]"
    within = geo.parse("within", "Polygon", square)
    assert within is not None
    assert within.holds(5.0, 47.3)
    assert not within.holds(5.2, 47.3)
    disjoint = geo.parse("disjoint", "Polygon", square)
    assert disjoint is not None
    assert disjoint.holds(5.2, 47.3)
    assert geo.parse(None, None, None) is None
    bad = [
        (("near;maxDistance==10", None, None), "geometry"),
        (("near;maxDistance==x", "Point", "[5,47]"), "georel"),
        (("near;maxDistance==-1", "Point", "[5,47]"), "georel"),
        (("equals", "Point", "[5,47]"), "georel"),
        (("within", "LineString", "[[5,47],[6,47]]"), "geometry"),
        (("near;maxDistance==10", "Point", "[500,47]"), "coordinates"),
        (("near;maxDistance==10", "Point", "[true,47]"), "coordinates"),
        (("within", "Polygon", "[[[0,0],[1,1],[0,1],[1,0],[0,0]]]"), "coordinates"),
        (("within", "Polygon", "[[[0,0],[1,0],[1,1],[0,0.5]]]"), "coordinates"),
        (("within", "Polygon", "[" * 19_000), "coordinates"),
    ]
    for args, field in bad:
        with pytest.raises(InvalidInput) as caught:
            geo.parse(*args)
        assert caught.value.errors[0].field == field, args
