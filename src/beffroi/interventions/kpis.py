"""Key figures of how fast faults become repairs, over any period ``[from, to)``.

Computed in Python over the period's rows (a few thousand a month for a metropolis),
which keeps them identical on SQLite and PostgreSQL and easy to check:

- mean time to acknowledge: alarms *acknowledged* in the period, acknowledged_at − raised_at;
- mean time to repair: interventions *resolved* in the period, resolved_at − created_at;
  and for alarms, those *cleared* in the period, cleared_at − raised_at;
- SLA compliance: interventions *due* in the period (up to now), not cancelled – the
  share resolved by their due time; plus how many open ones are overdue now;
- counts: interventions created, resolved, cancelled; alarms raised in the period.

Grouping: by category (an alarm counts under the category of its equipment's domain),
by commune, or by team (an alarm counts under the team of the first intervention linked
to it; ``null`` when none).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_, select

from beffroi.alarms import queries as alarm_queries
from beffroi.alarms.queries import AlarmFacts
from beffroi.core.context import Context
from beffroi.core.errors import FieldError, InvalidInput
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.db.lists import among, parts
from beffroi.interventions.lifecycle import OPEN, Category, Status
from beffroi.interventions.models import Intervention, InterventionAlarm
from beffroi.interventions.records import shown_clause
from beffroi.interventions.schemas import KpiFigures, KpiGrouping, KpiReport

CATEGORIES = {c.value for c in Category}


@dataclass(slots=True)
class _Tally:
    created: int = 0
    resolved: int = 0
    cancelled: int = 0
    repair_s: list[float] = field(default_factory=list)
    sla_due: int = 0
    sla_met: int = 0
    open_overdue: int = 0
    alarms_raised: int = 0
    ack_s: list[float] = field(default_factory=list)
    alarm_repair_s: list[float] = field(default_factory=list)

    def figures(self, key: str | None) -> KpiFigures:
        return KpiFigures(
            key=key,
            interventions_created=self.created,
            interventions_resolved=self.resolved,
            interventions_cancelled=self.cancelled,
            mean_time_to_repair_s=_mean(self.repair_s),
            sla_due=self.sla_due,
            sla_met=self.sla_met,
            sla_compliance=self.sla_met / self.sla_due if self.sla_due else None,
            open_overdue=self.open_overdue,
            alarms_raised=self.alarms_raised,
            alarms_acknowledged=len(self.ack_s),
            mean_time_to_acknowledge_s=_mean(self.ack_s),
            alarms_cleared=len(self.alarm_repair_s),
            alarm_mean_time_to_repair_s=_mean(self.alarm_repair_s),
        )


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def _within(value: datetime | None, start: datetime, end: datetime) -> bool:
    return value is not None and start <= value < end


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


async def kpis(
    ctx: Context, start: datetime, end: datetime, by: KpiGrouping | None = None
) -> KpiReport:
    """KPIs over ``[start, end)`` in the caller's commune scope, in total and per group."""
    ctx.principal.require(Permission.KPI_READ)
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput(FieldError("from", "times must carry their UTC offset"))
    if end <= start:
        raise InvalidInput(FieldError("to", "must be later than from"))
    now = utcnow()
    sla_end = min(end, now)
    open_values = [s.value for s in OPEN]
    async with ctx.db.read() as session:
        interventions = (
            (
                await session.execute(
                    select(Intervention).where(
                        ctx.principal.scope_clause(Intervention.commune_code),
                        shown_clause(ctx.principal),
                        or_(
                            and_(Intervention.created_at >= start, Intervention.created_at < end),
                            and_(Intervention.resolved_at >= start, Intervention.resolved_at < end),
                            and_(
                                Intervention.cancelled_at >= start, Intervention.cancelled_at < end
                            ),
                            and_(Intervention.due_at >= start, Intervention.due_at < end),
                            and_(Intervention.status.in_(open_values), Intervention.due_at < now),
                        ),
                    )
                )
            )
            .scalars()
            .all()
        )
        alarms = await alarm_queries.in_period(session, ctx.principal, start, end)
        alarm_team: dict[int, int | None] = {}
        if by is KpiGrouping.TEAM:
            in_scope = [a.id for a in alarms]
            for part in parts(session, in_scope):
                links = await session.execute(
                    select(InterventionAlarm.alarm_id, Intervention.team_id)
                    .join(Intervention, Intervention.id == InterventionAlarm.intervention_id)
                    .where(among(session, InterventionAlarm.alarm_id, part))
                    .order_by(InterventionAlarm.alarm_id, Intervention.id)
                )
                for alarm_id, team_id in links:
                    alarm_team.setdefault(alarm_id, team_id)

    def intervention_key(row: Intervention) -> str | None:
        if by is KpiGrouping.CATEGORY:
            return row.category
        if by is KpiGrouping.COMMUNE:
            return row.commune_code
        return None if row.team_id is None else str(row.team_id)

    def alarm_key(row: AlarmFacts) -> str | None:
        if by is KpiGrouping.CATEGORY:
            return row.domain if row.domain in CATEGORIES else None
        if by is KpiGrouping.COMMUNE:
            return row.commune_code
        team = alarm_team.get(row.id)
        return None if team is None else str(team)

    total = _Tally()
    groups: dict[str | None, _Tally] = defaultdict(_Tally)

    def tallies(key: Callable[[], str | None]) -> list[_Tally]:
        return [total, groups[key()]] if by is not None else [total]

    for row in interventions:
        for t in tallies(lambda row=row: intervention_key(row)):  # type: ignore[misc]
            if _within(row.created_at, start, end):
                t.created += 1
            if _within(row.resolved_at, start, end):
                assert row.resolved_at is not None
                t.resolved += 1
                t.repair_s.append(_seconds(row.resolved_at, row.created_at))
            if _within(row.cancelled_at, start, end):
                t.cancelled += 1
            if row.status != Status.CANCELLED and _within(row.due_at, start, sla_end):
                t.sla_due += 1
                if row.resolved_at is not None and row.resolved_at <= row.due_at:
                    t.sla_met += 1
            if row.status in open_values and row.due_at < now:
                t.open_overdue += 1
    for a in alarms:
        for t in tallies(lambda a=a: alarm_key(a)):  # type: ignore[misc]
            if _within(a.raised_at, start, end):
                t.alarms_raised += 1
            if a.acknowledged_at is not None and _within(a.acknowledged_at, start, end):
                t.ack_s.append(_seconds(a.acknowledged_at, a.raised_at))
            if a.cleared_at is not None and _within(a.cleared_at, start, end):
                t.alarm_repair_s.append(_seconds(a.cleared_at, a.raised_at))
    ordered = sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    return KpiReport(
        from_=start,
        to=end,
        by=by,
        total=total.figures(None),
        groups=[t.figures(k) for k, t in ordered],
    )
