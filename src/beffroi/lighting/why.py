""" "Why is this light at 50 % now?": for an asset, the assignment that applies (to its
cabinet, whose controller runs the schedule), the calendar rule that matched the lighting
day, the program, its steps that day, and the level it asks for."""

from __future__ import annotations

from datetime import datetime, timedelta

from beffroi.assets import queries as asset_queries
from beffroi.catalogue.visibility import in_view
from beffroi.core.context import Context
from beffroi.core.errors import NotFound
from beffroi.core.principal import Permission
from beffroi.core.sun import SunCalendar
from beffroi.core.time import utcnow
from beffroi.lighting import override_reach
from beffroi.lighting.clock import level_at, lighting_day
from beffroi.lighting.evaluate import DayPlan, day_plan
from beffroi.lighting.override import Applying, winner
from beffroi.lighting.reading import Library, cabinet_types, read_library
from beffroi.lighting.resolution import Assigned, Placed
from beffroi.lighting.schemas import (
    AssignmentOut,
    CalendarOut,
    OverrideInForce,
    ProgramOut,
    StepOnDay,
    TargetKind,
    Why,
)

_REASONS = {
    TargetKind.CABINET: "the cabinet's own assignment",
    TargetKind.GROUP: "the assignment of group {group}, which holds the cabinet",
    TargetKind.POLYGON: "the assignment of a polygon around the cabinet",
    TargetKind.COMMUNE: "the assignment of its commune ({commune})",
    TargetKind.DEFAULT: "the metropolis-wide default",
}


def _steps(plan: DayPlan, sun: SunCalendar) -> list[StepOnDay]:
    return [
        StepOnDay(
            index=s.index,
            at=s.at,
            local_time=s.at.astimezone(sun.zone).strftime("%H:%M"),
            kind=s.kind,
            level_pct=s.level_pct,
            ramp_s=s.ramp_s,
            presence_level_pct=s.presence_level_pct,
            hold_s=s.hold_s,
        )
        for s in plan.steps
    ]


def _explain(
    asset_id: str, place: Placed, found: Assigned | None, library: Library, plan: DayPlan | None
) -> str:
    who = asset_id if place.id == asset_id else f"{asset_id} is fed by cabinet {place.id}, which"
    if found is None:
        return f"{who} has no calendar assigned (nor a metropolis-wide default)."
    reason = _REASONS[found.target].format(group=found.group_id, commune=found.commune)
    calendar = library.calendars[found.calendar_id]
    text = f"{who} follows calendar {calendar.name!r} through {reason}."
    if plan is None:
        return text
    program = library.programs.get(plan.match.program_id)
    name = program.name if program else f"#{plan.match.program_id}"
    if plan.match.rule_index is None:
        return f"{text} On lighting day {plan.day} no rule matched: default program {name!r}."
    rule = library.calendar_specs[found.calendar_id].rules[plan.match.rule_index]
    return (
        f"{text} On lighting day {plan.day} rule {plan.match.rule_index} ({rule.kind.value}"
        f"{': ' + rule.label if rule.label else ''}) matched: program {name!r}."
    )


async def why(ctx: Context, asset_id: str, at: datetime | None = None) -> Why:
    """Why ``asset_id`` (a light or a cabinet) is asked for the level it is at ``at`` (now
    by default); 404 outside the caller's scope."""
    ctx.principal.require(Permission.ASSET_READ)
    at = at or utcnow()
    async with ctx.db.read() as session:
        asset = (await asset_queries.facts(session, [asset_id])).get(asset_id)
        if asset is None or not in_view(ctx.principal, asset.commune, asset.type):
            raise NotFound(f"asset {asset_id!r} not found")
        cabinets = set(cabinet_types())
        cabinet = None
        if asset.type in cabinets:
            cabinet = asset
        elif asset.parent_id:
            parent = (await asset_queries.facts(session, [asset.parent_id])).get(asset.parent_id)
            cabinet = parent if parent is not None and parent.type in cabinets else None
        runs = cabinet or asset  # a light without a cabinet is placed by itself
        library = await read_library(session, [runs.type])
        rows = await override_reach.applying(session, at=at)
        reaches = await override_reach.reach_of(session, rows)
    covering = [
        override_reach.applying_at(r)
        for r in rows
        if reaches[r.id].covers(asset_id, cabinet.id if cabinet else None, asset.commune)
    ]
    won = winner(covering, at)
    place = Placed(runs.id, runs.commune, runs.lon, runs.lat)
    sun = SunCalendar(runs.lat, runs.lon, ctx.settings.timezone)
    day = lighting_day(at, sun.zone)
    found = library.resolver.for_(place)
    spec = library.calendar_specs.get(found.calendar_id) if found else None
    plan = day_plan(spec, library.program_specs, day, sun) if spec else None
    level = None
    if spec is not None and plan is not None:
        before = day_plan(spec, library.program_specs, day - timedelta(days=1), sun).steps
        level = level_at([*before, *plan.steps], at)
    program = library.programs.get(plan.match.program_id) if plan else None
    rule_index = plan.match.rule_index if plan else None
    return Why(
        asset_id=asset_id,
        cabinet_id=cabinet.id if cabinet else None,
        at=at,
        lighting_day=day,
        assignment=AssignmentOut.model_validate(library.assignments[found.id]) if found else None,
        calendar=CalendarOut.model_validate(library.calendars[found.calendar_id])
        if found
        else None,
        rule_index=rule_index,
        rule=spec.rules[rule_index] if spec is not None and rule_index is not None else None,
        program=ProgramOut.model_validate(program) if program else None,
        steps=_steps(plan, sun) if plan else [],
        sunset=sun.day(day).sunset,
        sunrise=sun.day(day + timedelta(days=1)).sunrise,
        level_pct=None if level is None else round(level, 2),
        override=_in_force(won),
        effective_level_pct=won.level_pct if won else None if level is None else round(level, 2),
        explanation=_explain(asset_id, place, found, library, plan) + _overridden(won, sun),
    )


def _in_force(won: Applying | None) -> OverrideInForce | None:
    if won is None:
        return None
    return OverrideInForce(
        id=won.id,
        level_pct=won.level_pct,
        reason=won.reason,
        author=won.author,
        starts_at=won.starts_at,
        ends_at=won.until,
    )


def _overridden(won: Applying | None, sun: SunCalendar) -> str:
    """The sentence saying an override wins over the program, if one does."""
    if won is None:
        return ""
    until = won.until.astimezone(sun.zone).strftime("%Y-%m-%d %H:%M")
    return (
        f" Override #{won.id} by {won.author} ({won.reason!r}) wins over the program:"
        f" {won.level_pct:g} % until {until}."
    )
