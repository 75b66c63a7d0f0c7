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
from beffroi.lighting.overrides import (
    approve_override,
    cancel_override,
    create_override,
    get_override,
    list_overrides,
    refuse_override,
)
from beffroi.lighting.why import why

__all__ = [
    "approve_override",
    "cancel_override",
    "compile_schedules",
    "create_assignment",
    "create_calendar",
    "create_override",
    "create_program",
    "delete_assignment",
    "delete_calendar",
    "delete_program",
    "get_assignment",
    "get_calendar",
    "get_override",
    "get_program",
    "get_schedule",
    "list_assignments",
    "list_calendars",
    "list_overrides",
    "list_programs",
    "list_schedules",
    "refuse_override",
    "update_assignment",
    "update_calendar",
    "update_program",
    "why",
]
