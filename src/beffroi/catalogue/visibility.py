"""Which equipment exists for whom: cameras only for the people the law designates.

Video-protection is ruled by the Code de la sécurité intérieure (L252-2): only designated
agents may see cameras. For anybody else (``Principal.sees_video`` false) a camera does not
exist at all - not in a list, a map, an export, a command, an alarm, an intervention or the
live stream; read or aimed at by id, it is not found, exactly like something out of scope.

The hidden types are derived from the catalogue (every type of the video domain), and this
module is the one place that says so: each query adds :func:`type_clause` beside the commune
scope (``Principal.scope_clause``), each check of one thing calls :func:`shows` beside
``Principal.sees``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, true
from sqlalchemy.orm import InstrumentedAttribute

from beffroi.catalogue.equipment import EQUIPMENT_TYPES
from beffroi.core.errors import NotFound
from beffroi.core.principal import Principal
from beffroi.core.vocabulary import Domain

# The domains whose equipment only designated agents see.
RESTRICTED_DOMAINS = frozenset({Domain.VIDEO})
# The equipment types of those domains (cameras).
RESTRICTED_TYPES = frozenset(t.key for t in EQUIPMENT_TYPES if t.domain in RESTRICTED_DOMAINS)


def hidden_types(principal: Principal) -> frozenset[str]:
    """The equipment types that do not exist for ``principal``."""
    return frozenset() if principal.sees_video else RESTRICTED_TYPES


def hidden_domains(principal: Principal) -> frozenset[Domain]:
    """The equipment domains that do not exist for ``principal``."""
    return frozenset() if principal.sees_video else RESTRICTED_DOMAINS


def shows(principal: Principal, asset_type: str | None) -> bool:
    """Whether equipment of ``asset_type`` exists for ``principal`` (``None``: not
    equipment-bound, always shown)."""
    return asset_type is None or asset_type not in hidden_types(principal)


def shows_domain(principal: Principal, domain: str | None) -> bool:
    """Whether equipment of ``domain`` exists for ``principal``."""
    return domain is None or domain not in hidden_domains(principal)


def in_view(principal: Principal, commune: str | None, asset_type: str | None) -> bool:
    """Whether a thing of ``commune`` bound to equipment of ``asset_type`` is visible:
    in scope and of a type that exists for ``principal``."""
    return principal.sees(commune) and shows(principal, asset_type)


def require_shown(principal: Principal, asset_type: str | None, what: str) -> None:
    """Raise :class:`NotFound` (as out of scope) for a thing of a hidden type."""
    if not shows(principal, asset_type):
        raise NotFound(f"{what} not found")


def type_clause(
    principal: Principal, column: InstrumentedAttribute[Any] | Any
) -> ColumnElement[bool]:
    """A SQL condition keeping only rows whose equipment-type column names a type that
    exists for ``principal`` (a ``NULL`` type is not equipment-bound: kept)."""
    hidden = hidden_types(principal)
    if not hidden:
        return true()
    return or_(column.is_(None), column.not_in(sorted(hidden)))


def domain_clause(
    principal: Principal, column: InstrumentedAttribute[Any] | Any
) -> ColumnElement[bool]:
    """A SQL condition keeping only rows whose domain column names a domain that exists
    for ``principal``."""
    hidden = hidden_domains(principal)
    if not hidden:
        return true()
    return or_(column.is_(None), column.not_in(sorted(d.value for d in hidden)))
