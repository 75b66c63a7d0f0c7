"""The demo's starter lighting set-up: created once, through the use cases, and in force."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from beffroi.core.context import Context
from beffroi.lighting import service
from beffroi.lighting.starter import CALENDAR_NAME, FESTIVE, STANDARD, seed_lighting
from tests.integration.test_lighting import _fleet
from tests.support import Person

pytestmark = pytest.mark.asyncio


async def test_the_starter_set_up_is_made_once_and_runs(
    client: httpx.AsyncClient, admin: Person, system: Context
) -> None:
    await _fleet(client, admin)
    assert await seed_lighting(system) is True
    assert await seed_lighting(system) is False  # once: a second start changes nothing
    programs = {p.name for p in await service.list_programs(system)}
    assert programs == {STANDARD.name, FESTIVE.name}
    assert [c.name for c in await service.list_calendars(system)] == [CALENDAR_NAME]
    # Every cabinet has a schedule to deliver.
    assert {s.cabinet_id for s in await service.list_schedules(system)} == {
        "LC-TAL-0001",
        "LC-CHE-0001",
    }
    # A plain Tuesday night runs the standard program, at half power after 23:00 …
    tuesday = await service.why(system, "SL-TAL-1", datetime(2026, 11, 17, 23, 30, tzinfo=UTC))
    assert tuesday.program is not None
    assert tuesday.program.name == STANDARD.name
    assert tuesday.level_pct == 50
    # … and the night of 11 November (a public holiday) the festive one, at full power.
    armistice = await service.why(system, "SL-TAL-1", datetime(2026, 11, 11, 23, 30, tzinfo=UTC))
    assert armistice.program is not None
    assert armistice.program.name == FESTIVE.name
    assert armistice.level_pct == 100
