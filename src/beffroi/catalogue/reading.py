"""Reading the catalogue: open to whoever may read the registry."""

from __future__ import annotations

from beffroi.catalogue.registry import CATALOGUE
from beffroi.catalogue.spec import EquipmentType
from beffroi.core.errors import NotFound
from beffroi.core.principal import Permission, Principal


def readable_types(principal: Principal) -> list[EquipmentType]:
    """Every equipment type, in catalogue order."""
    principal.require(Permission.ASSET_READ)
    return list(CATALOGUE.values())


def readable_type(principal: Principal, key: str) -> EquipmentType:
    """One equipment type; NotFound for a key the catalogue does not have."""
    principal.require(Permission.ASSET_READ)
    spec = CATALOGUE.get(key)
    if spec is None:
        raise NotFound(f"equipment type {key!r} not found")
    return spec
