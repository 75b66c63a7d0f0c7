"""The post-event report of a run: its timeline, the command steps' batches and how their
commands ended, the work orders opened in its communes while it ran, and the lighting
energy and cost of its communes over its days (the energy area's report)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from beffroi.commands.reading import get_batch
from beffroi.core.context import Context
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.energy import report as energy_report
from beffroi.energy.schemas import Granularity, Level
from beffroi.interventions.periods import opened_between
from beffroi.plans.lifecycle import PlanStepKind
from beffroi.plans.reading import load_run, run_out, timeline
from beffroi.plans.schemas import (
    ReportCommands,
    ReportEnergy,
    ReportIntervention,
    RunReport,
)


async def run_report(ctx: Context, run_id: int) -> RunReport:
    """The report of a run of the caller's scope (up to now for a run not closed)."""
    ctx.principal.require(Permission.PLAN_READ)
    async with ctx.db.read() as session:
        run = await load_run(session, ctx.principal, run_id)
        out = await run_out(session, run)
        lines = await timeline(session, run_id)
    since = run.started_at
    until = run.closed_at or utcnow()
    commands = []
    for step in out.steps:
        if step.kind == PlanStepKind.COMMAND and step.batch_id:
            batch = await get_batch(ctx, step.batch_id)
            commands.append(
                ReportCommands(
                    position=step.position,
                    title=step.title,
                    batch_id=batch.id,
                    type=batch.type,
                    name=batch.name,
                    total=batch.total,
                    states={s: n for s, n in batch.counts.items() if n},
                )
            )
    interventions = []
    if ctx.principal.can(Permission.INTERVENTION_READ):
        interventions = [
            ReportIntervention(
                id=o.id,
                title=o.title,
                commune=o.commune,
                status=o.status,
                created_at=o.created_at,
                resolved_at=o.resolved_at,
            )
            for o in await opened_between(ctx, run.communes, since, until + timedelta(seconds=1))
        ]
    zone = ctx.settings.zone
    first, last = since.astimezone(zone).date(), until.astimezone(zone).date()
    energy = []
    scopes: list[str | None] = list(run.communes) if run.communes else [None]
    for commune in scopes:
        done = await energy_report.report(
            ctx,
            energy_report.Query(
                level=Level.COMMUNE if commune else Level.METROPOLIS,
                granularity=Granularity.DAY,
                since=first,
                until=last,
                commune=commune,
            ),
        )
        energy.append(
            ReportEnergy(
                commune=commune or "metropolis",
                energy_wh=done.total.energy_wh,
                cost_eur=done.total.cost_eur,
            )
        )
    return RunReport(
        run=out,
        since=since,
        until=until,
        timeline=lines,
        commands=commands,
        interventions=interventions,
        energy=energy,
    )


def as_csv(report: RunReport) -> str:
    """The report as one CSV table: a line per timeline event, command step, work order
    and commune's energy, its ``section`` saying which."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("section", "at", "step", "who", "what", "detail"))
    for e in report.timeline:
        detail = "; ".join(f"{k}={v}" for k, v in sorted(e.detail.items()) if v is not None)
        writer.writerow(("timeline", e.at.isoformat(), e.position, e.actor, e.kind, detail))
    for c in report.commands:
        states = "; ".join(f"{s}={n}" for s, n in sorted(c.states.items()))
        writer.writerow(("command", "", c.position, c.batch_id, f"{c.type}.{c.name}", states))
    for i in report.interventions:
        writer.writerow(
            ("intervention", i.created_at.isoformat(), "", i.commune, i.title, i.status)
        )
    for g in report.energy:
        writer.writerow(
            ("energy", "", "", g.commune, f"{g.energy_wh:.0f} Wh", f"{g.cost_eur:.2f} EUR")
        )
    return out.getvalue()
