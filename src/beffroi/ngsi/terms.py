"""The vocabulary of the facade: entity ids, entity types and the JSON-LD context.

The context Beffroi serves (``/ngsi-ld/v1/jsonldContexts/beffroi.jsonld``) is made from
the catalogue's Smart Data Models mapping, so it defines every term an answer holds and
nothing else: the NGSI-LD core terms answers use, each entity type and each attribute,
with the Smart Data Models' IRIs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from beffroi.catalogue.smart_models import (
    CONTROLLED_ASSET,
    DEVICE,
    DEVICE_ATTRIBUTES,
    DEVICE_NS,
    REF_DEVICE,
    SDM,
    SMART_MODELS,
    SmartAttribute,
    SmartModel,
)

CONTEXT_PATH = "/ngsi-ld/v1/jsonldContexts/beffroi.jsonld"
URN_PREFIX = "urn:ngsi-ld:"
CORE = "https://uri.etsi.org/ngsi-ld/"
# The entity id of an asset: urn:ngsi-ld:<Type>:<asset id> (asset ids are URN-safe).
ENTITY_ID = re.compile(r"^urn:ngsi-ld:([A-Za-z][A-Za-z0-9]{0,63}):([A-Za-z0-9._-]{1,64})$")

# The core terms answers use, as the NGSI-LD core context defines them.
CORE_TERMS: dict[str, Any] = {
    "ngsi-ld": CORE,
    "id": "@id",
    "type": "@type",
    "value": "ngsi-ld:hasValue",
    "object": {"@id": "ngsi-ld:hasObject", "@type": "@id"},
    "Property": "ngsi-ld:Property",
    "Relationship": "ngsi-ld:Relationship",
    "GeoProperty": "ngsi-ld:GeoProperty",
    "observedAt": {"@id": "ngsi-ld:observedAt", "@type": "ngsi-ld:DateTime"},
    "unitCode": "ngsi-ld:unitCode",
    "location": "ngsi-ld:location",
    "createdAt": {"@id": "ngsi-ld:createdAt", "@type": "ngsi-ld:DateTime"},
    "modifiedAt": {"@id": "ngsi-ld:modifiedAt", "@type": "ngsi-ld:DateTime"},
    "attributeNames": {"@id": "ngsi-ld:attributeNames", "@type": "@vocab"},
    "typeList": {"@id": "ngsi-ld:typeList", "@type": "@vocab"},
    "typeName": {"@id": "ngsi-ld:typeName", "@type": "@vocab"},
    "values": {"@id": "ngsi-ld:hasValues", "@container": "@list"},
    "EntityTypeList": "ngsi-ld:EntityTypeList",
    "EntityType": "ngsi-ld:EntityType",
    # GeoJSON inside a GeoProperty's value is a JSON literal for the facade's purposes.
    "Point": "https://purl.org/geojson/vocab#Point",
    "coordinates": {"@id": "https://purl.org/geojson/vocab#coordinates", "@container": "@list"},
}


@dataclass(frozen=True, slots=True)
class EntityKind:
    """One entity type the facade shows: its name, its IRI, its attributes."""

    name: str
    iri: str
    equipment_type: str | None  # None: every equipment type (Device)
    attributes: tuple[SmartAttribute, ...]

    def attribute(self, term: str) -> SmartAttribute | None:
        """The attribute of that term, if the kind has it."""
        return next((a for a in self.attributes if a.term == term), None)


def _kind(model: SmartModel) -> EntityKind:
    return EntityKind(
        model.entity_type,
        model.namespace + model.entity_type,
        model.equipment_type,
        model.attributes,
    )


KINDS: dict[str, EntityKind] = {
    **{m.entity_type: _kind(m) for m in SMART_MODELS.values()},
    DEVICE: EntityKind(DEVICE, DEVICE_NS + DEVICE, None, DEVICE_ATTRIBUTES),
}
BY_EQUIPMENT = {m.equipment_type: m.entity_type for m in SMART_MODELS.values()}
# Whatever a kind holds besides its mapped attributes.
LINK_TERMS = (REF_DEVICE, CONTROLLED_ASSET)


def iri_of(kind: EntityKind, term: str) -> str:
    """The IRI of an attribute term of ``kind``: the model's namespace, or the common one
    for the terms every model shares (name, areaServed)."""
    if term in ("name", "areaServed", "dateServiceStarted"):
        return SDM + term
    namespace = kind.iri[: -len(kind.name)]
    return namespace + term


def every_term() -> dict[str, str]:
    """Every attribute term and type name an answer may hold, with its IRI."""
    terms: dict[str, str] = {}
    for kind in KINDS.values():
        terms[kind.name] = kind.iri
        for attribute in kind.attributes:
            terms.setdefault(attribute.term, iri_of(kind, attribute.term))
    terms[REF_DEVICE] = DEVICE_NS + REF_DEVICE
    terms[CONTROLLED_ASSET] = DEVICE_NS + CONTROLLED_ASSET
    return terms


def context_document() -> dict[str, Any]:
    """The JSON-LD context served at :data:`CONTEXT_PATH`."""
    relationships = {REF_DEVICE, CONTROLLED_ASSET} | {
        a.term for k in KINDS.values() for a in k.attributes if a.refers_to
    }
    attribute_terms: dict[str, Any] = {}
    for term, iri in sorted(every_term().items()):
        attribute_terms[term] = {"@id": iri, "@type": "@id"} if term in relationships else iri
    return {"@context": {**CORE_TERMS, **attribute_terms}}


def entity_id(entity_type: str, asset_id: str) -> str:
    """The URN of an asset's entity of a type."""
    return f"{URN_PREFIX}{entity_type}:{asset_id}"


def parse_entity_id(value: str) -> tuple[str, str] | None:
    """(entity type, asset id) of a URN the facade makes; None for any other text."""
    found = ENTITY_ID.match(value)
    if found is None or found.group(1) not in KINDS:
        return None
    return found.group(1), found.group(2)


def kind_named(value: str) -> EntityKind | None:
    """The kind a ``type`` parameter names: its short name or its full IRI."""
    kind = KINDS.get(value)
    if kind is not None:
        return kind
    return next((k for k in KINDS.values() if k.iri == value), None)


def term_named(value: str) -> str | None:
    """The attribute term an ``attrs`` or ``q`` name stands for (short or full IRI)."""
    if value in ("location", CORE_TERMS["ngsi-ld"] + "location"):
        return "location"
    terms = every_term()
    if value in terms and value not in KINDS:
        return value
    return next((t for t, iri in terms.items() if iri == value and t not in KINDS), None)
