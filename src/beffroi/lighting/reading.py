"""One reading of everything that decides what cabinets run: assignments, the members of
the groups assigned, calendars and programs. Tens of rows, read whole, then resolved in
memory for any number of cabinets."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as asset_queries
from beffroi.catalogue import CATALOGUE, Domain
from beffroi.lighting.calendar import CalendarSpec, parse_calendar
from beffroi.lighting.models import LightingAssignment, LightingCalendar, LightingProgram
from beffroi.lighting.program import ProgramSpec, parse_program
from beffroi.lighting.resolution import Assigned, Resolver
from beffroi.lighting.schemas import TargetKind


def cabinet_types() -> list[str]:
    """The catalogue's lighting cabinets: the equipment whose controller runs a schedule."""
    return [t.key for t in CATALOGUE.of_domain(Domain.LIGHTING, cabinet=True)]


@dataclass(frozen=True, slots=True)
class Library:
    """Assignments (resolved through ``resolver``), calendars and programs, by id."""

    resolver: Resolver
    assignments: dict[int, LightingAssignment]
    calendars: dict[int, LightingCalendar]
    calendar_specs: dict[int, CalendarSpec]
    programs: dict[int, LightingProgram]
    program_specs: dict[int, ProgramSpec]


def assigned(row: LightingAssignment) -> Assigned:
    """An assignment row as resolution needs it."""
    return Assigned(
        row.id,
        row.calendar_id,
        TargetKind(row.target_kind),
        row.cabinet_id,
        row.group_id,
        row.commune_code,
        row.polygon,
    )


async def read_library(session: AsyncSession, types: list[str] | None = None) -> Library:
    """Everything lighting resolution needs; group members are those of ``types``
    (the cabinet types by default)."""
    rows = list((await session.execute(select(LightingAssignment))).scalars())
    groups = [r.group_id for r in rows if r.group_id is not None]
    members = await asset_queries.group_members(
        session, groups, cabinet_types() if types is None else types
    )
    calendars = {c.id: c for c in (await session.execute(select(LightingCalendar))).scalars()}
    programs = {p.id: p for p in (await session.execute(select(LightingProgram))).scalars()}
    return Library(
        resolver=Resolver([assigned(r) for r in rows], members),
        assignments={r.id: r for r in rows},
        calendars=calendars,
        calendar_specs={
            i: parse_calendar({"rules": c.rules, "default_program_id": c.default_program_id})
            for i, c in calendars.items()
        },
        programs=programs,
        program_specs={i: parse_program({"steps": p.steps}) for i, p in programs.items()},
    )
