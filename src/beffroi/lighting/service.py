"""Use cases of the lighting area, in one place for the adapters (routes, CLI, jobs)."""

from beffroi.lighting.assigning import (
    create_assignment,
    delete_assignment,
    get_assignment,
    list_assignments,
    update_assignment,
)
from beffroi.lighting.compiling import compile_schedules, get_schedule, list_schedules
from beffroi.lighting.library import (
    create_calendar,
    create_program,
    delete_calendar,
    delete_program,
    get_calendar,
    get_program,
    list_calendars,
    list_programs,
    update_calendar,
    update_program,
)
from beffroi.lighting.why import why

__all__ = [
    "compile_schedules",
    "create_assignment",
    "create_calendar",
    "create_program",
    "delete_assignment",
    "delete_calendar",
    "delete_program",
    "get_assignment",
    "get_calendar",
    "get_program",
    "get_schedule",
    "list_assignments",
    "list_calendars",
    "list_programs",
    "list_schedules",
    "update_assignment",
    "update_calendar",
    "update_program",
    "why",
]
