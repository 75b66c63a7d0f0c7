"""Energy reports: the daily totals summed per scope and period, against the baseline.

Every figure is a sum over the daily tables (:mod:`beffroi.energy.models`) grouped in SQL:
the metropolis and communes read ``energy_daily_communes`` (some 8,000 rows a year),
cabinets ``energy_daily_cabinets``, lights their own rows of ``energy_daily``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, case, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as asset_queries
from beffroi.communes.service import resolve as resolve_commune
from beffroi.config import Settings
from beffroi.core.context import Context
from beffroi.core.errors import FieldError, InvalidInput
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow
from beffroi.energy.models import NO_CABINET, EnergyDaily, EnergyDailyCabinet, EnergyDailyCommune
from beffroi.energy.rollup import metering
from beffroi.energy.schemas import (
    EnergyReport,
    EnergyRow,
    Granularity,
    Level,
    Tariff,
    TrendPoint,
)

# The longest period one report covers: three years and a day, by day at most ~1,100 rows
# per scope.
MAX_DAYS = 3 * 366
TREND_MONTHS = 12


@dataclass(frozen=True, slots=True)
class Query:
    """What a report asks for (see :class:`EnergyReport`)."""

    level: Level = Level.METROPOLIS
    granularity: Granularity = Granularity.MONTH
    since: date | None = None
    until: date | None = None
    commune: str | None = None
    cabinet: str | None = None
    asset: str | None = None


def _check(query: Query, today: date) -> tuple[date, date]:
    """The period asked for (default: the last twelve months up to today), or errors naming
    each bad field."""
    until = query.until or today
    since = query.since or (until.replace(day=1) - timedelta(days=335)).replace(day=1)
    errors = []
    if since > until:
        errors.append(FieldError("since", f"must not be after until ({until})"))
    elif (until - since).days >= MAX_DAYS:
        errors.append(FieldError("until", f"at most {MAX_DAYS} days after since"))
    if query.level is Level.LIGHT and not (query.cabinet or query.asset):
        errors.append(FieldError("level", "light needs a cabinet or an asset"))
    if query.asset and query.level is not Level.LIGHT:
        errors.append(FieldError("asset", "only with level=light"))
    if errors:
        raise InvalidInput(errors)
    return since, until


async def _known(session: AsyncSession, principal: Principal, query: Query) -> Query:
    """``query`` with its commune as a code; a commune, cabinet or light that does not
    exist, or is outside the caller's scope (which reads as not existing), is refused
    naming its field rather than answered with an empty report."""
    errors: list[FieldError] = []
    commune = query.commune
    if commune:
        try:
            commune = (await resolve_commune(session, commune)).code
        except InvalidInput as exc:
            errors += exc.errors
        else:
            if not principal.sees(commune):
                errors.append(FieldError("commune", f"unknown commune {query.commune!r}"))
    named = {"cabinet": query.cabinet, "asset": query.asset}
    facts = await asset_queries.facts(session, [v for v in named.values() if v])
    for field, asset_id in named.items():
        if asset_id and (asset_id not in facts or not principal.sees(facts[asset_id].commune)):
            errors.append(FieldError(field, f"unknown asset {asset_id!r}"))
    if errors:
        raise InvalidInput(errors)
    return replace(query, commune=commune)


def _period(is_postgres: bool, day: Any, granularity: Granularity) -> ColumnElement[Any]:
    """The first day of ``day``'s day, month or year."""
    if granularity is Granularity.DAY:
        return day  # type: ignore[no-any-return]
    if is_postgres:
        return cast(func.date_trunc(granularity.value, day), Date)
    return func.strftime("%Y-%m-01" if granularity is Granularity.MONTH else "%Y-01-01", day)


def _as_day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@dataclass(frozen=True, slots=True)
class _Sums:
    period: date
    key: str | None
    light_days: int
    energy_wh: float
    offpeak_wh: float
    compared_wh: float
    baseline_wh: float
    burning_h: float
    supply_wh: float | None


@dataclass(frozen=True, slots=True)
class _Source:
    """What a level reads: the summed columns, the conditions, the key and day columns."""

    summed: tuple[Any, ...]
    where: list[ColumnElement[bool]]
    key: Any
    day: Any


def _source(query: Query, principal: Principal) -> _Source:
    """Where and how the query's level is summed."""
    if query.level is Level.LIGHT:
        d = EnergyDaily
        lights = metering().lights
        summed: tuple[Any, ...] = (
            func.count(),
            func.sum(d.energy_wh),
            func.sum(d.offpeak_wh),
            func.coalesce(func.sum(_if(d.baseline_wh.is_not(None), d.energy_wh)), 0.0),
            func.coalesce(func.sum(d.baseline_wh), 0.0),
            func.coalesce(func.sum(d.burning_h), 0.0),
            literal(None),
        )
        where = [d.asset_type.in_(lights), principal.scope_clause(d.commune_code)]
        if query.cabinet:
            where.append(d.cabinet_id == query.cabinet)
        if query.asset:
            where.append(d.asset_id == query.asset)
        if query.commune:
            where.append(d.commune_code == query.commune)
        return _Source(summed, where, d.asset_id, d.day)
    # Per commune unless a cabinet is asked for: a year of the metropolis is some 8,000 rows.
    by_commune = query.level is not Level.CABINET and not query.cabinet
    c: Any = EnergyDailyCommune if by_commune else EnergyDailyCabinet
    summed = (
        func.sum(c.lights),
        func.sum(c.energy_wh),
        func.sum(c.offpeak_wh),
        func.sum(c.compared_wh),
        func.sum(c.baseline_wh),
        func.sum(c.burning_h),
        func.sum(c.supply_wh),
    )
    where = [principal.scope_clause(c.commune_code)]
    if query.commune:
        where.append(c.commune_code == query.commune)
    if query.cabinet:
        where.append(c.cabinet_id == query.cabinet)
    key = None
    if query.level is Level.COMMUNE:
        key = c.commune_code
    elif query.level is Level.CABINET:
        key = c.cabinet_id
    return _Source(summed, where, key, c.day)


def _if(condition: ColumnElement[bool], value: Any) -> Any:
    return case((condition, value))


async def _sums(
    session: AsyncSession,
    is_postgres: bool,
    query: Query,
    principal: Principal,
    since: date,
    until: date,
    granularity: Granularity,
    *,
    keyed: bool = True,
) -> list[_Sums]:
    source = _source(query, principal)
    period = _period(is_postgres, source.day, granularity).label("period")
    key = source.key
    groups: list[Any] = [period] + ([key] if keyed and key is not None else [])
    stmt = (
        select(*groups, *source.summed)
        .where(source.day >= since, source.day <= until, *source.where)
        .group_by(*groups)
        .order_by(*groups)
    )
    out = []
    for row in await session.execute(stmt):
        values = tuple(row)
        head, tail = values[: len(groups)], values[len(groups) :]
        found = head[1] if len(head) > 1 else None
        out.append(
            _Sums(
                _as_day(head[0]),
                None if found == NO_CABINET else found,
                int(tail[0] or 0),
                float(tail[1] or 0),
                float(tail[2] or 0),
                float(tail[3] or 0),
                float(tail[4] or 0),
                float(tail[5] or 0),
                None if tail[6] is None else float(tail[6]),
            )
        )
    return out


def _row(s: _Sums, settings: Settings) -> EnergyRow:
    """A report row: the sums, priced and weighed."""
    peak = max(0.0, s.energy_wh - s.offpeak_wh)
    cost = (
        peak * settings.energy_peak_eur_per_kwh + s.offpeak_wh * settings.energy_offpeak_eur_per_kwh
    ) / 1000
    kg_per_wh = settings.energy_co2_g_per_kwh / 1e6
    savings = 1 - s.compared_wh / s.baseline_wh if s.baseline_wh > 0 else None
    return EnergyRow(
        period=s.period,
        key=s.key,
        light_days=s.light_days,
        energy_wh=s.energy_wh,
        peak_wh=peak,
        offpeak_wh=s.offpeak_wh,
        supply_wh=s.supply_wh,
        baseline_wh=s.baseline_wh,
        compared_wh=s.compared_wh,
        savings=savings,
        cost_eur=round(cost, 2),
        co2_kg=round(s.energy_wh * kg_per_wh, 3),
        avoided_co2_kg=(
            round((s.baseline_wh - s.compared_wh) * kg_per_wh, 3) if s.baseline_wh > 0 else None
        ),
        burning_h=s.burning_h,
    )


def _total(rows: list[_Sums], since: date, key: str | None) -> _Sums:
    supplies = [r.supply_wh for r in rows if r.supply_wh is not None]
    return _Sums(
        since,
        key,
        sum(r.light_days for r in rows),
        sum(r.energy_wh for r in rows),
        sum(r.offpeak_wh for r in rows),
        sum(r.compared_wh for r in rows),
        sum(r.baseline_wh for r in rows),
        sum(r.burning_h for r in rows),
        sum(supplies) if supplies else None,
    )


def _months_back(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


async def report(ctx: Context, query: Query) -> EnergyReport:
    """The energy report ``query`` asks for, in the caller's scope (a commune user sees
    their communes' lights only; another commune, cabinet or light asked for is refused as
    unknown)."""
    ctx.principal.require(Permission.ASSET_READ)
    settings = ctx.settings
    since, until = _check(query, utcnow().astimezone(settings.zone).date())
    is_postgres = ctx.db.is_postgres
    first_month = _months_back(until.replace(day=1), TREND_MONTHS - 1)
    async with ctx.db.read() as session:
        query = await _known(session, ctx.principal, query)
        sums = await _sums(
            session, is_postgres, query, ctx.principal, since, until, query.granularity
        )
        months = await _sums(
            session,
            is_postgres,
            query,
            ctx.principal,
            first_month,
            until,
            Granularity.MONTH,
            keyed=False,
        )
    rows = [_row(s, settings) for s in sums]
    total = _row(_total(sums, since, query.asset or query.cabinet or query.commune), settings)
    by_month = {m.period: m for m in months}
    trend = []
    for n in range(TREND_MONTHS):
        month = _months_back(until.replace(day=1), TREND_MONTHS - 1 - n)
        m = by_month.get(month)
        trend.append(
            TrendPoint(
                month=month,
                savings=(1 - m.compared_wh / m.baseline_wh) if m and m.baseline_wh > 0 else None,
                energy_wh=m.energy_wh if m else 0.0,
                baseline_wh=m.baseline_wh if m else 0.0,
            )
        )
    target = settings.energy_savings_target
    return EnergyReport(
        level=query.level,
        granularity=query.granularity,
        since=since,
        until=until,
        commune=query.commune,
        cabinet=query.cabinet,
        asset=query.asset,
        target=target,
        meets_target=None if total.savings is None else total.savings >= target,
        tariff=Tariff(
            peak_eur_per_kwh=settings.energy_peak_eur_per_kwh,
            offpeak_eur_per_kwh=settings.energy_offpeak_eur_per_kwh,
            offpeak_hours=settings.energy_offpeak_hours,
            co2_g_per_kwh=settings.energy_co2_g_per_kwh,
        ),
        total=total,
        rows=rows,
        trend=trend,
    )


CSV_COLUMNS = tuple(EnergyRow.model_fields)


def as_csv(rows: list[Any], columns: tuple[str, ...]) -> str:
    """Rows (pydantic models) as CSV text with a header line; ``None`` is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        values = row.model_dump()
        writer.writerow(["" if values[c] is None else values[c] for c in columns])
    return out.getvalue()
