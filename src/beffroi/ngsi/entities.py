"""Entities made from an asset and its newest values, as the catalogue's Smart Data Models
mapping says: the normalized form (Property, Relationship, GeoProperty with observedAt and
unitCode), the keyValues form, and the plain values ``q`` is evaluated on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from beffroi.assets.schemas import AssetOut
from beffroi.catalogue.smart_models import (
    CONTROLLED_ASSET,
    DEVICE,
    REF_DEVICE,
    Convert,
    SmartAttribute,
    Source,
)
from beffroi.ngsi.terms import BY_EQUIPMENT, KINDS, EntityKind, entity_id
from beffroi.telemetry.service import AssetState

LOCATION = "location"


def iso(moment: datetime) -> str:
    """An instant as NGSI-LD writes it: UTC, with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Reading:
    """One attribute's value, when it was observed (telemetry) and its unit."""

    value: Any
    observed_at: datetime | None = None
    unit_code: str | None = None
    refers_to: str | None = None  # the URN of a Relationship's object


def convert(value: Any, how: Convert) -> Any:
    """A stored value as the model writes it."""
    if value is None:
        return None
    if how is Convert.RATIO and isinstance(value, int | float):
        return round(float(value) / 100.0, 6)
    if how is Convert.KILO and isinstance(value, int | float):
        return float(value) / 1000.0
    if how is Convert.ON_OFF and isinstance(value, int | float):
        return "on" if value > 0 else "off"
    if how is Convert.TEXT:
        return str(value)
    if how is Convert.ONLINE:
        return "online" if value else "offline"
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, datetime):
        return iso(value)
    return value


def _field(asset: AssetOut, name: str) -> Any:
    return getattr(asset, name) if name != "commune" else asset.commune


def _status(state: AssetState | None, name: str) -> Any:
    if state is None:
        return None
    return {"online": state.online, "last_seen_at": state.last_seen_at}.get(
        name, state.firmware if name == "firmware" else None
    )


def reading(asset: AssetOut, state: AssetState | None, attribute: SmartAttribute) -> Reading | None:
    """The value of one mapped attribute of an asset, if it has one."""
    observed: datetime | None = None
    if attribute.source is Source.TELEMETRY:
        point = state.values.get(attribute.name) if state else None
        if point is None:
            return None
        raw, observed = point.value, point.ts
    elif attribute.source is Source.ATTRIBUTE:
        raw = asset.attributes.get(attribute.name)
    elif attribute.source is Source.STATUS:
        raw = _status(state, attribute.name)
        if attribute.convert is not Convert.ONLINE and raw is None:
            return None
    else:
        raw = _field(asset, attribute.name)
    if raw is None:
        return None
    value = convert(raw, attribute.convert)
    if attribute.refers_to:
        return Reading(value, refers_to=entity_id(attribute.refers_to, str(raw)))
    return Reading(value, observed, attribute.unit_code)


def kinds_of(equipment_type: str) -> list[EntityKind]:
    """The entity kinds an asset of a type is shown as: its model's, and Device."""
    model = BY_EQUIPMENT.get(equipment_type)
    return ([KINDS[model]] if model else []) + [KINDS[DEVICE]]


def readings(kind: EntityKind, asset: AssetOut, state: AssetState | None) -> dict[str, Reading]:
    """Every attribute of the entity of ``kind`` made from an asset, by term."""
    out: dict[str, Reading] = {}
    for attribute in kind.attributes:
        found = reading(asset, state, attribute)
        if found is not None:
            out[attribute.term] = found
    model = BY_EQUIPMENT.get(asset.type)
    if kind.name == DEVICE and model is not None:
        out[CONTROLLED_ASSET] = Reading(None, refers_to=entity_id(model, asset.id))
    elif kind.name != DEVICE:
        out[REF_DEVICE] = Reading(None, refers_to=entity_id(DEVICE, asset.id))
    return out


def plain_values(found: dict[str, Reading]) -> dict[str, Any]:
    """term: value (a Relationship's object URN), what ``q`` compares."""
    return {t: r.refers_to if r.refers_to else r.value for t, r in found.items()}


def normalized(reading_: Reading) -> dict[str, Any]:
    """One attribute in the normalized form."""
    if reading_.refers_to:
        return {"type": "Relationship", "object": reading_.refers_to}
    out: dict[str, Any] = {"type": "Property", "value": reading_.value}
    if reading_.observed_at is not None:
        out["observedAt"] = iso(reading_.observed_at)
    if reading_.unit_code:
        out["unitCode"] = reading_.unit_code
    return out


def entity(
    kind: EntityKind,
    asset: AssetOut,
    found: dict[str, Reading],
    attrs: Sequence[str],
    *,
    key_values: bool,
) -> dict[str, Any]:
    """The entity document (without ``@context``), with only ``attrs`` if given."""
    out: dict[str, Any] = {"id": entity_id(kind.name, asset.id), "type": kind.name}
    for term, found_reading in found.items():
        if attrs and term not in attrs:
            continue
        if key_values:
            out[term] = found_reading.refers_to or found_reading.value
        else:
            out[term] = normalized(found_reading)
    if not attrs or LOCATION in attrs:
        point = {"type": "Point", "coordinates": list(asset.location.coordinates)}
        out[LOCATION] = point if key_values else {"type": "GeoProperty", "value": point}
    return out
