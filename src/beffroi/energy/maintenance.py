"""Maintenance planning of the lights: burning hours against rated life, failures per model.

A lamp's burning hours are those it burnt before Beffroi metered it (an attribute) plus the
daily totals' since; its rated life is its model's datasheet figure (an attribute), else the
catalogue's figure for its technology (:class:`beffroi.catalogue.LampLife`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select

from beffroi.alarms import queries as alarm_queries
from beffroi.assets import queries as asset_queries
from beffroi.assets.lifecycle import AssetStatus
from beffroi.catalogue import CATALOGUE, LampLife
from beffroi.core.context import Context
from beffroi.core.errors import FieldError, InvalidInput
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.energy import days
from beffroi.energy.models import EnergyDaily

# The faults that mean the lamp or its driver failed (not the supply, not the network).
FAILURES = ("lampFailure", "driverFailure")


class LampState(BaseModel):
    """One light's lamp against its rated life (``life_used``: burning_h / rated_life_h)."""

    id: str
    name: str
    commune: str
    cabinet: str | None
    manufacturer: str | None
    model: str | None
    lamp_type: str | None
    burning_h: float
    rated_life_h: float | None
    life_used: float | None


class ModelRecord(BaseModel):
    """The lights of one model (manufacturer and model, else the lamp technology): how
    many, their rated life, their mean and highest burning hours, and the failures they
    raised over the period (``failures_per_light`` = failures / lights)."""

    manufacturer: str | None
    model: str | None
    lamp_type: str | None
    lights: int
    rated_life_h: float | None
    mean_burning_h: float
    max_burning_h: float
    failures: int
    failures_per_light: float


def _lamp_life() -> dict[str, LampLife]:
    return {t.key: t.lamp_life for t in CATALOGUE.values() if t.lamp_life}


async def lamps(ctx: Context) -> list[LampState]:
    """Every live light in the caller's scope with its burning hours and rated life."""
    ctx.principal.require(Permission.ASSET_READ)
    lives = _lamp_life()
    if not lives:
        return []
    numbers = sorted({n for life in lives.values() for n in (life.override, life.hours_before)})
    texts = sorted({life.attribute for life in lives.values()})
    assets = asset_queries.with_numbers(list(lives), numbers, texts)
    measured = (
        select(EnergyDaily.asset_id, func.sum(EnergyDaily.burning_h).label("hours"))
        .group_by(EnergyDaily.asset_id)
        .subquery()
    )
    stmt = (
        select(assets, measured.c.hours)
        .select_from(assets.outerjoin(measured, measured.c.asset_id == assets.c.id))
        .where(
            assets.c.status != AssetStatus.DECOMMISSIONED.value,
            ctx.principal.scope_clause(assets.c.commune_code),
        )
        .order_by(assets.c.id)
    )
    out = []
    async with ctx.db.read() as session:
        for row in (await session.execute(stmt)).mappings():
            life = lives[row["type"]]
            attributes = {n: row[n] for n in (*numbers, *texts) if row[n] is not None}
            hours = float(attributes.get(life.hours_before, 0)) + float(row["hours"] or 0)
            rated = life.rated_hours(attributes)
            out.append(
                LampState(
                    id=row["id"],
                    name=row["name"],
                    commune=row["commune_code"],
                    cabinet=row["parent_id"],
                    manufacturer=row["manufacturer"],
                    model=row["model"],
                    lamp_type=attributes.get(life.attribute),
                    burning_h=round(hours, 2),
                    rated_life_h=rated,
                    life_used=round(hours / rated, 4) if rated else None,
                )
            )
    return out


async def due(ctx: Context, share: float | None = None) -> list[LampState]:
    """The lights whose lamp has burnt ``share`` of its rated life or more (default
    ``BEFFROI_ENERGY_REPLACEMENT_SHARE``), most worn first."""
    share = ctx.settings.energy_replacement_share if share is None else share
    if not 0 < share <= 2:
        raise InvalidInput(FieldError("share", "must be above 0 and at most 2"))
    worn = [s for s in await lamps(ctx) if s.life_used is not None and s.life_used >= share]
    return sorted(worn, key=lambda s: (-(s.life_used or 0), s.id))


async def models(
    ctx: Context, since: date | None = None, until: date | None = None
) -> list[ModelRecord]:
    """The lights per model in the caller's scope, with the failures they raised over the
    local days ``[since, until]`` (default: the last 365 days)."""
    ctx.principal.require(Permission.ALARM_READ)
    zone = ctx.settings.zone
    until = until or utcnow().astimezone(zone).date()
    since = since or until - timedelta(days=364)
    if since > until:
        raise InvalidInput(FieldError("since", f"must not be after until ({until})"))
    states = await lamps(ctx)
    async with ctx.db.read() as session:
        failures = await alarm_queries.counts_per_asset(
            session,
            ctx.principal,
            list(_lamp_life()),
            FAILURES,
            days.bounds(since, zone)[0],
            days.bounds(until, zone)[1],
        )
    groups: dict[tuple[Any, ...], list[LampState]] = defaultdict(list)
    for state in states:
        key = (state.manufacturer, state.model, None if state.model else state.lamp_type)
        groups[key].append(state)
    out = []
    for (maker, model, kind), members in groups.items():
        rated = {m.rated_life_h for m in members if m.rated_life_h}
        failed = sum(failures.get(m.id, 0) for m in members)
        out.append(
            ModelRecord(
                manufacturer=maker,
                model=model,
                lamp_type=kind if kind else _common({m.lamp_type for m in members}),
                lights=len(members),
                rated_life_h=rated.pop() if len(rated) == 1 else None,
                mean_burning_h=round(sum(m.burning_h for m in members) / len(members), 2),
                max_burning_h=max(m.burning_h for m in members),
                failures=failed,
                failures_per_light=round(failed / len(members), 4),
            )
        )
    return sorted(out, key=lambda r: (-r.failures_per_light, r.manufacturer or "", r.model or ""))


def _common(values: set[str | None]) -> str | None:
    """The one value all share, else ``None`` (a model sold with several technologies)."""
    return values.pop() if len(values) == 1 else None
