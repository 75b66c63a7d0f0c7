"""Checks an asset must pass before it is written, shared by the API, imports and the
fleet generator: one set of rules whichever way equipment enters the registry."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets.models import Asset
from beffroi.assets.schemas import AssetCreate
from beffroi.catalogue import CATALOGUE
from beffroi.catalogue.visibility import shows
from beffroi.communes import queries as commune_queries
from beffroi.core.errors import FieldError
from beffroi.core.principal import Principal

CHUNK = 900  # below SQLite's historical limit of 999 bound parameters


@dataclass(frozen=True, slots=True)
class Known:
    """What the database says about an existing asset."""

    type: str
    commune: str


@dataclass(slots=True)
class CommuneIndex:
    """Commune references (code or name, any case) to codes."""

    by_ref: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def load(cls, session: AsyncSession) -> CommuneIndex:
        """All communes; there are tens, not thousands."""
        index = cls()
        for place in await commune_queries.places(session):
            index.by_ref[place.code.lower()] = place.code
            index.by_ref[place.name.lower()] = place.code
        return index

    def code(self, ref: str) -> str | None:
        """The code for a reference, or None."""
        return self.by_ref.get(ref.strip().lower())


async def known_assets(session: AsyncSession, ids: Iterable[str]) -> dict[str, Known]:
    """Type and commune of those of ``ids`` that exist."""
    wanted = sorted(set(ids))
    out: dict[str, Known] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        rows = await session.execute(
            select(Asset.id, Asset.type, Asset.commune_code).where(Asset.id.in_(chunk))
        )
        out.update({row.id: Known(row.type, row.commune_code) for row in rows})
    return out


def check_asset(
    item: AssetCreate,
    *,
    principal: Principal,
    communes: CommuneIndex,
    parents: dict[str, Known],
    existing: Known | None,
    row: int | None = None,
) -> tuple[str | None, list[FieldError]]:
    """Every rule for one asset; returns its commune code and the errors found.

    ``parents`` holds the possible parents: assets in the database or in the same batch.
    """
    errors: list[FieldError] = []

    def bad(where: str, message: str) -> None:
        errors.append(FieldError(where, message, row=row))

    # A type that does not exist for the principal (a camera) is as unknown as a typo.
    spec = CATALOGUE.get(item.type) if shows(principal, item.type) else None
    if spec is None:
        known = [key for key in CATALOGUE if shows(principal, key)]
        bad("type", f"unknown equipment type {item.type!r}; known: {known}")
    else:
        errors.extend(
            FieldError(e.field, e.message, row=row)
            for e in CATALOGUE.attribute_errors(item.type, item.attributes)
        )
    code = communes.code(item.commune)
    if code is None:
        bad("commune", f"unknown commune {item.commune!r}")
    elif not principal.sees(code):
        bad("commune", f"commune {code!r} is outside your scope")
    if existing is not None:
        hidden = not principal.sees(existing.commune) or not shows(principal, existing.type)
        if existing.type != item.type and not hidden:
            bad("type", f"asset {item.id!r} exists as a {existing.type}; a type never changes")
        if hidden:
            # Reported as a taken id, so another commune's inventory is not revealed.
            bad("id", f"id {item.id!r} is not available")
    if item.parent_id is not None and spec is not None:
        check_parent(item.id, item.parent_id, spec.parent_types, parents, principal, bad)
    return code, errors


def check_parent(
    asset_id: str,
    parent_id: str,
    allowed: Sequence[str],
    parents: dict[str, Known],
    principal: Principal,
    bad: Callable[[str, str], None],
) -> None:
    """The parent exists, is visible and is of a type allowed to parent this one."""
    if parent_id == asset_id:
        bad("parent_id", "an asset cannot be its own parent")
        return
    if not allowed:
        bad("parent_id", "this type of equipment has no parent")
        return
    parent = parents.get(parent_id)
    if parent is None or not principal.sees(parent.commune) or not shows(principal, parent.type):
        bad("parent_id", f"unknown parent {parent_id!r}")
    elif parent.type not in allowed:
        bad("parent_id", f"parent {parent_id!r} is a {parent.type}; expected one of {allowed}")
