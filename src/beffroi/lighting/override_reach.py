"""Which overrides apply, and to which lights: read from the database, for compilation,
"why" and the expected levels of the drift check.

A commune or metropolis override reaches whole cabinets (and lights without one) by
their commune, decided on the spot, so a cabinet added during a festival follows it too;
a list or a group reaches its cabinets whole and its lights one by one; a polygon reaches
the lights inside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as asset_queries
from beffroi.catalogue import CATALOGUE, Domain
from beffroi.lighting.models import LightingOverride
from beffroi.lighting.override import Applying, Decision, OverrideTarget, effective_end


def light_types() -> list[str]:
    """The catalogue's lights: the lighting equipment that is not a cabinet."""
    return [t.key for t in CATALOGUE.of_domain(Domain.LIGHTING, cabinet=False)]


@dataclass(frozen=True, slots=True)
class Reach:
    """What one override reaches: everything, communes, whole cabinets, single lights
    (each with its cabinet, ``None`` when it has none)."""

    everything: bool = False
    communes: frozenset[str] = frozenset()
    cabinets: frozenset[str] = frozenset()
    lights: Mapping[str, str | None] = field(default_factory=dict)

    def covers(self, asset_id: str, cabinet_id: str | None, commune: str) -> bool:
        """Whether it reaches a light (fed by ``cabinet_id``) or a cabinet of ``commune``."""
        return (
            self.everything
            or commune in self.communes
            or asset_id in self.cabinets
            or (cabinet_id is not None and cabinet_id in self.cabinets)
            or asset_id in self.lights
        )

    def on_cabinet(self, cabinet_id: str, commune: str) -> tuple[bool, list[str]]:
        """(whole cabinet, its lights reached one by one) for one cabinet's schedule."""
        if self.everything or commune in self.communes or cabinet_id in self.cabinets:
            return True, []
        return False, sorted(light for light, c in self.lights.items() if c == cabinet_id)


def applying_at(row: LightingOverride) -> Applying:
    """An override row as resolution needs it."""
    return Applying(
        row.id,
        row.level_pct,
        row.starts_at,
        effective_end(row.ends_at, row.cancelled_at),
        row.ends_at,
        row.reason,
        row.created_by,
    )


async def applying(
    session: AsyncSession, *, at: datetime | None = None, after: datetime | None = None
) -> list[LightingOverride]:
    """Overrides that were let apply (approved, or needing no approval) and are in force
    ``at`` a moment (cancelled later included: "why" may ask about the past), or, with
    ``after``, still to apply after it (not cancelled: what the field must know)."""
    stmt = select(LightingOverride).where(LightingOverride.approved_at.is_not(None))
    if at is not None:
        stmt = stmt.where(
            LightingOverride.starts_at <= at,
            LightingOverride.ends_at > at,
            or_(LightingOverride.cancelled_at.is_(None), LightingOverride.cancelled_at > at),
        )
    if after is not None:
        stmt = stmt.where(
            LightingOverride.state == Decision.APPROVED.value, LightingOverride.ends_at > after
        )
    return list((await session.execute(stmt.order_by(LightingOverride.id))).scalars())


async def _units(
    session: AsyncSession, ids: Iterable[str]
) -> tuple[set[str], dict[str, str | None]]:
    """Live cabinets and lights among ``ids``; each light with its cabinet."""
    cabinets = {t.key for t in CATALOGUE.of_domain(Domain.LIGHTING, cabinet=True)}
    lights = set(light_types())
    found = await asset_queries.facts(session, ids)
    parents = await asset_queries.facts(
        session, {f.parent_id for f in found.values() if f.parent_id and f.type in lights}
    )
    live = [f for f in found.values() if f.live]
    whole = {f.id for f in live if f.type in cabinets}
    single: dict[str, str | None] = {}
    for f in live:
        if f.type in lights:
            parent = parents.get(f.parent_id or "")
            single[f.id] = parent.id if parent is not None and parent.type in cabinets else None
    return whole, single


async def reach_of(session: AsyncSession, rows: Sequence[LightingOverride]) -> dict[int, Reach]:
    """What each override reaches, now."""
    groups = [r.group_id for r in rows if r.target_kind == OverrideTarget.GROUP and r.group_id]
    members = await asset_queries.group_members(session, groups) if groups else {}
    out: dict[int, Reach] = {}
    for row in rows:
        kind = OverrideTarget(row.target_kind)
        if kind is OverrideTarget.METROPOLIS:
            out[row.id] = Reach(everything=True)
        elif kind is OverrideTarget.COMMUNE:
            out[row.id] = Reach(communes=frozenset({row.commune_code or ""}))
        else:
            if kind is OverrideTarget.ASSETS:
                ids: Iterable[str] = row.asset_ids or []
            elif kind is OverrideTarget.GROUP:
                ids = members.get(row.group_id or 0, set())
            else:
                assert row.polygon is not None
                ids = await asset_queries.ids_inside(
                    session, row.polygon, row.commune_code, light_types()
                )
            whole, single = await _units(session, ids)
            out[row.id] = Reach(cabinets=frozenset(whole), lights=single)
    return out
