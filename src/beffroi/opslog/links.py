"""What an entry names and where: its links to other areas' objects and its place, each
checked against the author's scope, every error naming its field."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms import queries as alarms
from beffroi.assets import queries as assets
from beffroi.catalogue.visibility import hidden_types
from beffroi.commands import queries as commands
from beffroi.communes import queries as communes
from beffroi.core.errors import FieldError, InvalidInput
from beffroi.core.principal import Permission, Principal
from beffroi.interventions import queries as interventions
from beffroi.opslog.lifecycle import LinkKind
from beffroi.opslog.schemas import LogLinks, LogPlace
from beffroi.reports import queries as reports
from beffroi.roads import geometry

# Who may name each kind of object: whoever may read that kind.
READ = {
    LinkKind.ASSET: Permission.ASSET_READ,
    LinkKind.ALARM: Permission.ALARM_READ,
    LinkKind.INTERVENTION: Permission.INTERVENTION_READ,
    LinkKind.REPORT: Permission.REPORT_READ,
    LinkKind.COMMAND: Permission.COMMAND_READ,
}
NOUN = {
    LinkKind.ASSET: "asset",
    LinkKind.ALARM: "alarm",
    LinkKind.INTERVENTION: "intervention",
    LinkKind.REPORT: "report",
    LinkKind.COMMAND: "command",
}


def stored(data: LogLinks) -> dict[str, list[Any]]:
    """The links as the record keeps (and the chain hashes) them: sorted, without twins."""
    return {k.value: sorted(set(getattr(data, k.value))) for k in LinkKind}


async def _where(
    session: AsyncSession, kind: LinkKind, ids: list[Any], principal: Principal
) -> dict[Any, str | None]:
    """The commune of each object of ``ids`` that exists and exists for ``principal``
    (equipment of a hidden type does not: cameras, unless designated)."""
    hidden = hidden_types(principal)
    if kind is LinkKind.ASSET:
        found = await assets.facts(session, ids)
        return {i: f.commune for i, f in found.items() if f.type not in hidden}
    if kind is LinkKind.ALARM:
        seen = await alarms.alarms(session, ids)
        return {i: a.commune_code for i, a in seen.items() if a.asset_type not in hidden}
    if kind is LinkKind.COMMAND:
        placed = await commands.places_of(session, ids)
        return {i: commune for i, (commune, type_) in placed.items() if type_ not in hidden}
    if kind is LinkKind.INTERVENTION:
        return dict(await interventions.communes_of(session, ids, principal))
    return dict(await reports.communes_of(session, ids))


async def check(session: AsyncSession, principal: Principal, links: dict[str, list[Any]]) -> None:
    """Refuse links to objects that do not exist or lie outside the author's scope (one
    message for both: what is outside is not the author's to learn), naming each field."""
    errors: list[FieldError] = []
    for kind in LinkKind:
        ids = links[kind.value]
        if not ids:
            continue
        if not principal.can(READ[kind]):
            errors.append(FieldError(kind.value, f"naming a {NOUN[kind]} needs {READ[kind]}"))
            continue
        where = await _where(session, kind, ids, principal)
        errors += [
            FieldError(kind.value, f"no {NOUN[kind]} {ref}")
            for ref in ids
            if ref not in where or not principal.sees(where[ref])
        ]
    if errors:
        raise InvalidInput(errors)


async def visible(session: AsyncSession, principal: Principal, kind: LinkKind, ref: Any) -> bool:
    """Whether one object exists for ``principal``, in its scope: a search by an object it
    does not see finds nothing, as a search by a missing one does."""
    where = await _where(session, kind, [ref], principal)
    return ref in where and principal.sees(where[ref])


async def hidden_refs(
    session: AsyncSession, principal: Principal, records: Iterable[dict[str, list[Any]]]
) -> dict[str, set[Any]]:
    """The links of ``records`` that name equipment hidden from ``principal`` (cameras,
    their alarms, commands and work orders): left out of what is shown, as everywhere
    else."""
    hidden = hidden_types(principal)
    out: dict[str, set[Any]] = {k.value: set() for k in LinkKind}
    if not hidden:
        return out
    every = list(records)
    for kind in (LinkKind.ASSET, LinkKind.ALARM, LinkKind.COMMAND, LinkKind.INTERVENTION):
        ids = sorted({ref for links in every for ref in links.get(kind.value, [])})
        if ids:
            out[kind.value] = set(ids) - set(await _where(session, kind, ids, principal))
    return out


async def place(session: AsyncSession, data: LogPlace) -> dict[str, Any]:
    """The entry's place checked: a Point, or a Polygon whose rings are closed, valid and
    inside the metropolis (WGS84); an error names ``place``."""
    raw = data.model_dump()
    if data.type == "Polygon":
        for ring in data.coordinates:
            if not isinstance(ring, list) or len(ring) < 4 or ring[0] != ring[-1]:
                # shapely closes an open ring silently: what was drawn is not what is kept.
                raise InvalidInput(
                    FieldError("place", "a polygon's rings must be closed (first point = last)")
                )
    centres = await communes.places(session)
    bounds = geometry.bounds_around((p.lon, p.lat) for p in centres)
    shape = geometry.parse(raw, "place", frozenset({"Point", "Polygon"}), bounds)
    return geometry.to_geojson(shape)
