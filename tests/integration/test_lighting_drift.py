"""Drift alarms on both databases: a light whose reported level differs from what its
program (or an override) asks for, beyond the tolerance for longer than the delay, raises
an alarm; back within the tolerance clears it. The rule is an ordinary monitoring rule
(made through the rules API); the lighting area says what level is expected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from beffroi.alarms.models import Alarm
from beffroi.core.context import Context, Runtime
from beffroi.core.time import utcnow
from beffroi.lighting import jobs as lighting_jobs
from beffroi.lighting.expected import ExpectedLevels
from beffroi.rules import jobs
from beffroi.rules.models import RuleState
from beffroi.telemetry.decode import Readings
from beffroi.telemetry.store import Batch, TelemetryStore
from tests.integration.test_lighting import API, ok
from tests.integration.test_lighting_overrides import _body, _setup
from tests.integration.test_rules import engine_for
from tests.support import Person

pytestmark = pytest.mark.asyncio
# 00:30 local on the night of 1 to 2 December 2026: the ordinary night, dimmed to 50 %.
NIGHT = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
RULE = {
    "key": "drift",
    "name": "Light off its program",
    "kind": "lighting_drift",
    "asset_type": "streetlight",
    "params": {"tolerance_pct": 10, "delay_s": 300},
    "severity": "minor",
}


async def _report(runtime: Runtime, level: float, ts: datetime) -> None:
    batch = Batch(readings=[Readings("SL-TAL-1", (("level_pct", ts, level, None),))])
    await TelemetryStore(runtime.db).write(batch, ts)


async def _active(runtime: Runtime) -> list[tuple[str, str, dict[str, object]]]:
    async with runtime.db.read() as session:
        rows = (await session.execute(select(Alarm).order_by(Alarm.id))).scalars()
        return [(a.asset_id, a.alarm_type, a.detail) for a in rows if a.active_key]


async def test_drift_raises_after_the_delay_and_clears(
    client: httpx.AsyncClient, admin: Person, system: Context, runtime: Runtime
) -> None:
    await _setup(client, admin, system)
    h = admin.headers
    # The rule is refused naming the field when it cannot work.
    bad = {**RULE, "params": {"tolerance_pct": 150, "delay_s": 300}}
    r = await client.post("/api/v1/rules", json=bad, headers=h)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "params.tolerance_pct")
    r = await client.post(
        "/api/v1/rules", json={**RULE, "asset_type": "lighting_cabinet"}, headers=h
    )
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "asset_type")
    rule = ok(await client.post("/api/v1/rules", json=RULE, headers=h), 201)
    expected = ExpectedLevels(runtime.settings.timezone)

    async def run(now: datetime) -> None:
        await jobs.check_drift(runtime.db, expected, now)

    async with runtime.db.read() as session:
        assert await expected(session, ["SL-TAL-1", "LC-TAL-0001"], NIGHT) == {
            "SL-TAL-1": 50.0,
            "LC-TAL-0001": 50.0,
        }
    # Full light while the program dims to 50 %: seen, not raised before the delay.
    await _report(runtime, 100.0, NIGHT)
    await run(NIGHT)
    await run(NIGHT + timedelta(minutes=4))
    assert await _active(runtime) == []
    await _report(runtime, 100.0, NIGHT + timedelta(minutes=5))
    await run(NIGHT + timedelta(minutes=6))
    [(asset, kind, detail)] = await _active(runtime)
    assert (asset, kind) == ("SL-TAL-1", "rule:drift")
    assert (detail["value"], detail["expected"], detail["tolerance_pct"]) == (100.0, 50.0, 10.0)
    await run(NIGHT + timedelta(minutes=7))
    assert len(await _active(runtime)) == 1  # raised once
    # The ingest path does not judge it (it costs ingestion nothing).
    engine = await engine_for(runtime)
    assert rule["id"] in engine.rules
    newest = {("SL-TAL-1", "level_pct"): (NIGHT + timedelta(minutes=8), 0.0, None)}
    async with runtime.db.write() as session:
        assert (await engine.evaluate(session, newest, NIGHT)).signals == []
    # Back within the tolerance: cleared, and nothing remembered.
    await _report(runtime, 55.0, NIGHT + timedelta(minutes=9))
    await run(NIGHT + timedelta(minutes=9))
    assert await _active(runtime) == []
    async with runtime.db.read() as session:
        assert list((await session.execute(select(RuleState))).scalars()) == []


async def test_an_override_is_what_is_expected(
    client: httpx.AsyncClient, admin: Person, system: Context, runtime: Runtime
) -> None:
    await _setup(client, admin, system)
    h = admin.headers
    ok(await client.post("/api/v1/rules", json=RULE, headers=h), 201)
    ok(
        await client.post(
            f"{API}/overrides", json=_body("assets", 30, asset_ids=["SL-TAL-1"]), headers=h
        ),
        201,
    )
    now = utcnow()
    async with runtime.db.read() as session:
        levels = await ExpectedLevels(runtime.settings.timezone)(session, ["SL-TAL-1"], now)
    assert levels == {"SL-TAL-1": 30.0}
    # At 30 % as the override asks: no drift whatever the program says now.
    await _report(runtime, 30.0, now)
    await lighting_jobs.check_drift(system)
    assert await _active(runtime) == []
    # At 90 %: drifting from the override.
    await _report(runtime, 90.0, now + timedelta(seconds=1))
    await jobs.check_drift(
        runtime.db, ExpectedLevels(runtime.settings.timezone), now + timedelta(minutes=1)
    )
    await jobs.check_drift(
        runtime.db, ExpectedLevels(runtime.settings.timezone), now + timedelta(minutes=7)
    )
    [(_asset, _kind, detail)] = await _active(runtime)
    assert (detail["value"], detail["expected"]) == (90.0, 30.0)
