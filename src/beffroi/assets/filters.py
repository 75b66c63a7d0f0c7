"""What an asset listing asks for: the filters, the bounding box, and their SQL, in the
caller's scope; listings go by id, a page at a time (:data:`ORDER`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, or_
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets.lifecycle import AssetStatus
from beffroi.assets.models import Asset
from beffroi.catalogue.visibility import type_clause
from beffroi.communes.lookup import filter_codes
from beffroi.core.context import Context
from beffroi.core.errors import FieldError, InvalidInput
from beffroi.core.keyset import Keyset

AnySelect = TypeVar("AnySelect", bound="Select[*tuple[Any, ...]]")

ORDER = Keyset((Asset.id,))  # every listing and export of assets, and their cursors


@dataclass(frozen=True, slots=True)
class BBox:
    """A WGS84 bounding box (min lon, min lat, max lon, max lat)."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @classmethod
    def parse(cls, text: str) -> BBox:
        """Parse ``minlon,minlat,maxlon,maxlat``; an error names the parameter."""
        try:
            values = [float(v) for v in text.split(",")]
        except ValueError:
            values = []
        if len(values) != 4:
            raise InvalidInput(FieldError("bbox", "expected minlon,minlat,maxlon,maxlat"))
        box = cls(*values)
        if not (
            -180 <= box.min_lon <= box.max_lon <= 180 and -90 <= box.min_lat <= box.max_lat <= 90
        ):
            raise InvalidInput(
                FieldError("bbox", "expected min <= max within lon -180..180 and lat -90..90")
            )
        return box


@dataclass(frozen=True, slots=True)
class AssetFilter:
    """Filters of an asset listing. Lists mean "any of"."""

    types: Sequence[str] = ()
    communes: Sequence[str] = ()
    statuses: Sequence[AssetStatus] = ()
    parent_id: str | None = None
    bbox: BBox | None = None
    q: str | None = None
    ids: Sequence[str] = ()
    cursor: str | None = None
    limit: int = 100


async def filtered(
    ctx: Context, session: AsyncSession, stmt: AnySelect, f: AssetFilter
) -> AnySelect:
    """Apply the caller's scope and the filter (not its cursor) to a select over assets."""
    stmt = stmt.where(
        ctx.principal.scope_clause(Asset.commune_code), type_clause(ctx.principal, Asset.type)
    )
    if f.types:
        stmt = stmt.where(Asset.type.in_(list(f.types)))
    if f.communes:
        codes = await filter_codes(session, ctx.principal, f.communes)
        stmt = stmt.where(Asset.commune_code.in_(codes))
    if f.statuses:
        stmt = stmt.where(Asset.status.in_([s.value for s in f.statuses]))
    else:
        stmt = stmt.where(Asset.status != AssetStatus.DECOMMISSIONED.value)
    if f.parent_id:
        stmt = stmt.where(Asset.parent_id == f.parent_id)
    if f.ids:
        stmt = stmt.where(Asset.id.in_(list(f.ids)))
    if f.bbox:
        b = f.bbox
        stmt = stmt.where(
            Asset.lon >= b.min_lon,
            Asset.lon <= b.max_lon,
            Asset.lat >= b.min_lat,
            Asset.lat <= b.max_lat,
        )
    if f.q:
        pattern = (
            "%" + f.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        stmt = stmt.where(
            or_(
                Asset.id.ilike(pattern, escape="\\"),
                Asset.name.ilike(pattern, escape="\\"),
            )
        )
    return stmt
