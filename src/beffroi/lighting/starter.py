"""A starter lighting set-up for a first look (``beffroi demo``): two programs, a calendar
that runs the festive one on public holidays and through the end-of-year festivities, and
that calendar as the metropolis's default; then every cabinet's schedule compiled, for the
gateway to deliver and the simulated cabinets to run.

Created once, by whoever calls it (the demo's system account), through the same use cases
as a supervisor's, so each step is checked and audited.
"""

from __future__ import annotations

from beffroi.core.context import Context
from beffroi.lighting import service
from beffroi.lighting.schemas import AssignmentCreate, CalendarCreate, ProgramCreate, TargetKind

STANDARD = ProgramCreate.model_validate(
    {
        "name": "Nuit standard",
        "description": "Full light at dusk, half from 23:00, back up for the morning rush",
        "steps": [
            {"anchor": "sunset", "offset_min": -10, "level_pct": 100, "ramp_s": 60},
            {"anchor": "time", "at": "23:00", "level_pct": 50, "ramp_s": 300},
            {"anchor": "time", "at": "05:30", "level_pct": 100, "ramp_s": 300},
            {"anchor": "sunrise", "offset_min": 10, "level_pct": 0, "ramp_s": 60},
        ],
    }
)
FESTIVE = ProgramCreate.model_validate(
    {
        "name": "Nuit de fête",
        "description": "Full light from dusk to dawn",
        "steps": [
            {"anchor": "sunset", "offset_min": -10, "level_pct": 100, "ramp_s": 60},
            {"anchor": "sunrise", "offset_min": 10, "level_pct": 0, "ramp_s": 60},
        ],
    }
)
CALENDAR_NAME = "Calendrier de la métropole"


async def seed_lighting(ctx: Context) -> bool:
    """Create the starter programs, calendar and default assignment, and compile every
    cabinet's schedule, unless a program exists already. Returns whether it did."""
    if await service.list_programs(ctx):
        return False
    standard = await service.create_program(ctx, STANDARD)
    festive = await service.create_program(ctx, FESTIVE)
    calendar = await service.create_calendar(
        ctx,
        CalendarCreate.model_validate(
            {
                "name": CALENDAR_NAME,
                "description": "The standard night, festive on public holidays and at year end",
                "rules": [
                    {
                        "kind": "holidays",
                        "holidays": ["any"],
                        "program_id": festive.id,
                        "label": "Jours fériés",
                    },
                    {
                        "kind": "period",
                        "start": "2026-12-01",
                        "end": "2027-01-06",
                        "annual": True,
                        "program_id": festive.id,
                        "label": "Fêtes de fin d'année",
                    },
                ],
                "default_program_id": standard.id,
            }
        ),
    )
    await service.create_assignment(
        ctx, AssignmentCreate(calendar_id=calendar.id, target=TargetKind.DEFAULT)
    )
    await service.compile_schedules(ctx)
    return True
