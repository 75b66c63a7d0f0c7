"""What the mobility area shows: priority requests, the delay they saved, traffic counts
(and their CSV), each within the caller's communes."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from beffroi.communes.service import resolve
from beffroi.core.context import Context
from beffroi.core.errors import FieldError, InvalidInput
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.mobility.models import PriorityRequest, TrafficCount
from beffroi.mobility.outcomes import GRANTED, OPEN_OUTCOMES
from beffroi.mobility.schemas import CountOut, DelaySaved, PriorityRequestOut

MAX_SPAN = timedelta(days=92)


def _span(
    since: datetime | None, until: datetime | None, default: timedelta
) -> tuple[datetime, datetime]:
    until = until or utcnow()
    since = since or until - default
    if since >= until:
        raise InvalidInput(FieldError("since", "must be before until"))
    if until - since > MAX_SPAN:
        raise InvalidInput(FieldError("since", "the period is at most 92 days"))
    return since, until


@dataclass(frozen=True, slots=True)
class RequestFilter:
    """Which requests: of a controller, of a line, over ``[since, until)``."""

    controller_id: str | None = None
    line: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 200


async def list_requests(ctx: Context, f: RequestFilter) -> list[PriorityRequestOut]:
    """Priority requests in scope, newest first."""
    ctx.principal.require(Permission.COMMAND_READ)
    since, until = _span(f.since, f.until, timedelta(days=1))
    r = PriorityRequest
    stmt = select(r).where(
        ctx.principal.scope_clause(r.commune_code), r.requested_at >= since, r.requested_at < until
    )
    if f.controller_id:
        stmt = stmt.where(r.controller_id == f.controller_id)
    if f.line:
        stmt = stmt.where(r.line == f.line)
    async with ctx.db.read() as session:
        rows = (await session.execute(stmt.order_by(r.id.desc()).limit(f.limit))).scalars()
        return [PriorityRequestOut.model_validate(row) for row in rows]


async def delay_saved(
    ctx: Context, since: datetime | None, until: datetime | None
) -> list[DelaySaved]:
    """Per intersection and line: requests, how many were granted, and the delay saved."""
    ctx.principal.require(Permission.COMMAND_READ)
    since, until = _span(since, until, timedelta(days=7))
    r = PriorityRequest
    stmt = (
        select(
            r.controller_id,
            r.line,
            r.outcome,
            func.count(),
            func.coalesce(func.sum(r.delay_saved_s), 0.0),
        )
        .where(
            ctx.principal.scope_clause(r.commune_code),
            r.requested_at >= since,
            r.requested_at < until,
        )
        .group_by(r.controller_id, r.line, r.outcome)
    )
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0, 0, 0.0])
    async with ctx.db.read() as session:
        for controller, line, outcome, n, saved in await session.execute(stmt):
            t = totals[(controller, line)]
            t[0] += n
            if outcome == GRANTED:
                t[1] += n
            elif outcome in OPEN_OUTCOMES:
                t[3] += n
            else:
                t[2] += n
            t[4] += float(saved or 0.0)
    return [
        DelaySaved(
            controller_id=c,
            line=line,
            requests=int(t[0]),
            granted=int(t[1]),
            not_granted=int(t[2]),
            open=int(t[3]),
            delay_saved_s=round(t[4], 1),
        )
        for (c, line), t in sorted(totals.items())
    ]


@dataclass(frozen=True, slots=True)
class CountFilter:
    """Which counts: of an asset or a commune, 6-minute or hourly, over ``[since, until)``."""

    asset_id: str | None = None
    commune: str | None = None
    period_min: int = 60
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 5000


async def list_counts(ctx: Context, f: CountFilter) -> list[CountOut]:
    """Traffic counts in scope, by asset, lane and period start."""
    ctx.principal.require(Permission.ASSET_READ)
    if f.period_min not in (6, 60):
        raise InvalidInput(FieldError("period", "the period is 6 or 60 minutes"))
    since, until = _span(f.since, f.until, timedelta(days=1))
    t = TrafficCount
    stmt = select(t).where(
        ctx.principal.scope_clause(t.commune_code),
        t.period_min == f.period_min,
        t.bucket >= since,
        t.bucket < until,
    )
    if f.asset_id:
        stmt = stmt.where(t.asset_id == f.asset_id)
    stmt = stmt.order_by(t.asset_id, t.lane, t.bucket).limit(f.limit)
    async with ctx.db.read() as session:
        if f.commune:
            code = (await resolve(session, f.commune)).code
            stmt = stmt.where(t.commune_code == code)
        return [CountOut.model_validate(row) for row in (await session.execute(stmt)).scalars()]


COUNT_COLUMNS = (
    "asset_id",
    "lane",
    "period_min",
    "bucket",
    "commune",
    "vehicles",
    "flow_vph",
    "occupancy_pct",
    "speed_kmh",
    "samples",
)


def counts_csv(rows: Sequence[CountOut]) -> str:
    """Counts as CSV: a header of the field names, a line per row (empty: no value)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COUNT_COLUMNS)
    for row in rows:
        values = row.model_dump()
        writer.writerow([_cell(values[name]) for name in COUNT_COLUMNS])
    return out.getvalue()


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return value
