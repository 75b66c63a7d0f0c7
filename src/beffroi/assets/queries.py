"""What other areas read of the registry: plain rows and selectables of ids, never the table.

Each function takes the caller's session, so a read shares its transaction (a command
being created, an ingest batch being written). Bulk reads go by parts of ids
(:mod:`beffroi.db.lists`), one statement per part whatever the number of ids.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shapely import contains_xy
from shapely.geometry import shape
from sqlalchemy import ColumnElement, Select, Subquery, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets.lifecycle import AssetStatus
from beffroi.assets.models import Asset, AssetGroup, AssetGroupMember, GroupKind
from beffroi.catalogue.visibility import hidden_types, type_clause
from beffroi.core.principal import Principal
from beffroi.db.lists import among, parts


@dataclass(frozen=True, slots=True)
class Facts:
    """What other areas need to know of one asset."""

    id: str
    type: str
    name: str
    commune: str
    status: str
    parent_id: str | None
    lon: float
    lat: float
    created_at: datetime

    @property
    def live(self) -> bool:
        """Not decommissioned."""
        return self.status != AssetStatus.DECOMMISSIONED.value


_FACTS = (
    Asset.id,
    Asset.type,
    Asset.name,
    Asset.commune_code,
    Asset.status,
    Asset.parent_id,
    Asset.lon,
    Asset.lat,
    Asset.created_at,
)


async def facts(session: AsyncSession, ids: Iterable[str]) -> dict[str, Facts]:
    """The facts of the assets among ``ids`` that exist (decommissioned ones included)."""
    out: dict[str, Facts] = {}
    for part in parts(session, sorted(set(ids))):
        for row in await session.execute(select(*_FACTS).where(among(session, Asset.id, part))):
            out[row.id] = Facts(*row)
    return out


def live() -> ColumnElement[bool]:
    """The asset counts: it is not decommissioned."""
    return Asset.status != AssetStatus.DECOMMISSIONED.value


def id_query(
    *,
    types: Sequence[str] = (),
    statuses: Sequence[str] = (),
    communes: Sequence[str] = (),
    scope: Principal | None = None,
    only_live: bool = False,
    created_before: datetime | None = None,
) -> Select[Any]:
    """A selectable of the ids of the assets matching every condition given, to use as a
    subquery (``column.in_(id_query(...))``) in another area's statement."""
    stmt = select(Asset.id)
    if types:
        stmt = stmt.where(Asset.type.in_(list(types)))
    if statuses:
        stmt = stmt.where(Asset.status.in_(list(statuses)))
    if communes:
        stmt = stmt.where(Asset.commune_code.in_(list(communes)))
    if scope is not None:
        stmt = stmt.where(scope.scope_clause(Asset.commune_code), type_clause(scope, Asset.type))
    if only_live:
        stmt = stmt.where(live())
    if created_before is not None:
        stmt = stmt.where(Asset.created_at < created_before)
    return stmt


def shown_clause(principal: Principal, column: Any) -> ColumnElement[bool]:
    """A SQL condition on an asset-id column of another area's table that holds no asset
    type: the asset is of a type that exists for ``principal`` (a ``NULL`` id is kept).

    Where a table holds the type (commands, alarms), ``catalogue.visibility.type_clause``
    on it is cheaper; this one reads the registry (a subquery of the few hidden ids)."""
    hidden = hidden_types(principal)
    if not hidden:
        return true()
    hidden_ids = select(Asset.id).where(Asset.type.in_(sorted(hidden)))
    return or_(column.is_(None), column.not_in(hidden_ids))


def with_numbers(
    types: Sequence[str], numbers: Sequence[str], texts: Sequence[str] = ()
) -> Subquery:
    """A subquery of the assets of ``types`` (decommissioned ones too): ``id``, ``type``,
    ``name``, ``status``, ``commune_code``, ``parent_id``, ``manufacturer``, ``model``, and
    one column per numeric attribute named in ``numbers`` and per text attribute named in
    ``texts`` (``NULL`` where the asset has none), for set-based statements."""
    return (
        select(
            Asset.id,
            Asset.type,
            Asset.name,
            Asset.status,
            Asset.commune_code,
            Asset.parent_id,
            Asset.manufacturer,
            Asset.model,
            *(Asset.attributes[name].as_float().label(name) for name in numbers),
            *(Asset.attributes[name].as_string().label(name) for name in texts),
        )
        .where(Asset.type.in_(list(types)))
        .subquery()
    )


async def in_scope(
    session: AsyncSession, scope: Principal, *, exclude: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """(id, commune) of every live asset in ``scope``, by id."""
    stmt = (
        select(Asset.id, Asset.commune_code)
        .where(scope.scope_clause(Asset.commune_code), type_clause(scope, Asset.type), live())
        .order_by(Asset.id)
    )
    left_out = sorted(set(exclude))
    if left_out:
        stmt = stmt.where(Asset.id.not_in(left_out))
    return [(row.id, row.commune_code) for row in await session.execute(stmt)]


async def live_ids(session: AsyncSession, ids: Iterable[str] | None = None) -> set[str]:
    """Which of ``ids`` (of all assets, without ``ids``) are live."""
    if ids is None:
        return set((await session.execute(select(Asset.id).where(live()))).scalars())
    found: set[str] = set()
    for part in parts(session, sorted(set(ids))):
        stmt = select(Asset.id).where(among(session, Asset.id, part), live())
        found.update((await session.execute(stmt)).scalars())
    return found


async def children_of(session: AsyncSession, parent_ids: Iterable[str]) -> dict[str, str]:
    """child -> parent of every asset (decommissioned ones too) whose parent is among
    ``parent_ids``."""
    out: dict[str, str] = {}
    for part in parts(session, sorted(set(parent_ids))):
        rows = await session.execute(
            select(Asset.id, Asset.parent_id).where(among(session, Asset.parent_id, part))
        )
        out.update({row.id: row.parent_id for row in rows})
    return out


async def fingerprint(session: AsyncSession) -> tuple[object, ...]:
    """Moves whenever any asset changes (every change raises its version) or is added."""
    row = (
        await session.execute(
            select(
                func.count(), func.coalesce(func.sum(Asset.version), 0), func.max(Asset.updated_at)
            )
        )
    ).one()
    return tuple(row)


@dataclass(frozen=True, slots=True)
class MapRow:
    """An asset as the map draws it."""

    id: str
    type: str
    name: str
    commune: str
    lon: float
    lat: float
    status: str


async def map_rows(session: AsyncSession) -> list[MapRow]:
    """Every live asset, as the map draws it."""
    rows = await session.execute(
        select(
            Asset.id, Asset.type, Asset.name, Asset.commune_code, Asset.lon, Asset.lat, Asset.status
        ).where(live())
    )
    return [MapRow(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class DirectoryRow:
    """What a device gateway keeps of an asset, and when the asset last changed."""

    id: str
    type: str
    parent_id: str | None
    commune: str
    status: str
    updated_at: datetime


_DIRECTORY = (
    Asset.id,
    Asset.type,
    Asset.parent_id,
    Asset.commune_code,
    Asset.status,
    Asset.updated_at,
)


async def changed_since(
    session: AsyncSession, since: datetime | None, *, chunk: int = 5000
) -> AsyncIterator[DirectoryRow]:
    """Every asset changed at or after ``since`` (all, without it), oldest change first,
    streamed."""
    stmt = select(*_DIRECTORY).order_by(Asset.updated_at)
    if since is not None:
        stmt = stmt.where(Asset.updated_at >= since)
    result = await session.stream(stmt.execution_options(yield_per=chunk))
    async for row in result:
        yield DirectoryRow(*row)


async def directory_rows(session: AsyncSession, ids: Iterable[str]) -> list[DirectoryRow]:
    """The directory rows of the assets among ``ids`` that exist."""
    out: list[DirectoryRow] = []
    for part in parts(session, sorted(set(ids))):
        rows = await session.execute(select(*_DIRECTORY).where(among(session, Asset.id, part)))
        out += [DirectoryRow(*row) for row in rows]
    return out


async def attributes(session: AsyncSession, ids: Select[Any]) -> list[dict[str, Any]]:
    """The attributes of the assets selected by ``ids`` (an :func:`id_query`)."""
    rows = await session.execute(
        select(Asset.attributes).where(Asset.id.in_(ids.scalar_subquery()))
    )
    return [dict(value or {}) for value in rows.scalars()]


@dataclass(frozen=True, slots=True)
class GroupFacts:
    """What other areas need to know of one asset group."""

    id: int
    name: str
    commune: str | None
    kind: str


async def group_facts(session: AsyncSession, group_ids: Iterable[int]) -> dict[int, GroupFacts]:
    """The groups among ``group_ids`` that exist."""
    wanted = sorted(set(group_ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(AssetGroup.id, AssetGroup.name, AssetGroup.commune_code, AssetGroup.kind).where(
            AssetGroup.id.in_(wanted)
        )
    )
    return {row.id: GroupFacts(*row) for row in rows}


async def group_members(
    session: AsyncSession, group_ids: Iterable[int], types: Sequence[str] = ()
) -> dict[int, set[str]]:
    """The live members (of ``types``, all without) of each group among ``group_ids``,
    whatever anyone's scope: a list group's listed assets, a polygon group's assets inside
    its polygon (and its commune, if it has one)."""
    wanted = sorted(set(group_ids))
    out: dict[int, set[str]] = {g: set() for g in wanted}
    if not wanted:
        return out
    listed = (
        select(AssetGroupMember.group_id, AssetGroupMember.asset_id)
        .join(Asset, Asset.id == AssetGroupMember.asset_id)
        .where(AssetGroupMember.group_id.in_(wanted), live())
    )
    if types:
        listed = listed.where(Asset.type.in_(list(types)))
    for row in await session.execute(listed):
        out[row.group_id].add(row.asset_id)
    polygons = await session.execute(
        select(AssetGroup.id, AssetGroup.polygon, AssetGroup.commune_code).where(
            AssetGroup.id.in_(wanted), AssetGroup.kind == GroupKind.POLYGON.value
        )
    )
    for group_id, polygon, commune in polygons:
        if polygon:
            out[group_id].update(await ids_inside(session, polygon, commune, types))
    return out


async def ids_inside(
    session: AsyncSession,
    polygon: dict[str, Any],
    commune: str | None = None,
    types: Sequence[str] = (),
) -> list[str]:
    """Ids of the live assets (of ``types``) inside a GeoJSON polygon, whatever anyone's
    scope: a bounding box in SQL, the exact test in shapely."""
    area = shape(polygon)
    min_lon, min_lat, max_lon, max_lat = area.bounds
    stmt = select(Asset.id, Asset.lon, Asset.lat).where(
        live(), Asset.lon.between(min_lon, max_lon), Asset.lat.between(min_lat, max_lat)
    )
    if commune:
        stmt = stmt.where(Asset.commune_code == commune)
    if types:
        stmt = stmt.where(Asset.type.in_(list(types)))
    rows = (await session.execute(stmt)).all()
    if not rows:
        return []
    inside = contains_xy(area, [r.lon for r in rows], [r.lat for r in rows])
    return [row.id for row, hit in zip(rows, inside, strict=True) if hit]


@dataclass(frozen=True, slots=True)
class Described:
    """A live asset with its attributes, as the open data of its type publishes it."""

    id: str
    name: str
    commune: str
    parent_id: str | None
    lon: float
    lat: float
    status: str
    attributes: dict[str, Any]


async def described(session: AsyncSession, asset_type: str) -> list[Described]:
    """Every live asset of ``asset_type``, with its attributes, by id."""
    rows = await session.execute(
        select(
            Asset.id,
            Asset.name,
            Asset.commune_code,
            Asset.parent_id,
            Asset.lon,
            Asset.lat,
            Asset.status,
            Asset.attributes,
        )
        .where(Asset.type == asset_type, live())
        .order_by(Asset.id)
    )
    return [
        Described(
            row.id,
            row.name,
            row.commune_code,
            row.parent_id,
            row.lon,
            row.lat,
            row.status,
            dict(row.attributes or {}),
        )
        for row in rows
    ]


async def attributes_of(session: AsyncSession, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The attributes of the assets among ``ids`` that exist."""
    out: dict[str, dict[str, Any]] = {}
    for part in parts(session, sorted(set(ids))):
        stmt = select(Asset.id, Asset.attributes).where(among(session, Asset.id, part))
        out.update({row.id: dict(row.attributes or {}) for row in await session.execute(stmt)})
    return out
