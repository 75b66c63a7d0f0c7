"""Monitoring rules on both databases: the engine in the ingest transaction with its
shared states, a failing rule disabled without stopping ingestion, the no-data job with
a controlled clock, and the API (versions, stale edits, validation, rights, scope)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from beffroi.alarms import raising
from beffroi.alarms.ingest import AlarmObserver
from beffroi.alarms.lifecycle import AlarmSource
from beffroi.alarms.models import Alarm
from beffroi.assets.importing import import_assets
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.catalogue import Severity
from beffroi.core.audit import AuditEntry
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.rules import editing, jobs, reading, states
from beffroi.rules.conditions import RuleKind
from beffroi.rules.engine import Evaluation, RuleEngine
from beffroi.rules.events import RuleDisabled
from beffroi.rules.models import MonitoringRule, RuleState, RuleVersion
from beffroi.rules.schemas import RuleCreate, RuleUpdate
from beffroi.telemetry.decode import Readings
from beffroi.telemetry.directory import DeviceDirectory
from beffroi.telemetry.models import LatestValue
from beffroi.telemetry.store import Batch, TelemetryStore
from tests.support import make_person

pytestmark = pytest.mark.asyncio
API = "/api/v1"


async def fleet(system: Context) -> None:
    """Two lights and a cabinet in Talant, a light in Dijon."""

    def asset(asset_id: str, type_: str, commune: str) -> AssetCreate:
        return AssetCreate(
            id=asset_id,
            type=type_,
            name=asset_id,
            commune=commune,
            location=Point(coordinates=(5.0, 47.33)),
        )

    items = [
        asset("SL-1", "streetlight", "talant"),
        asset("SL-2", "streetlight", "talant"),
        asset("SL-9", "streetlight", "dijon"),
        asset("LC-1", "lighting_cabinet", "talant"),
    ]
    await import_assets(system, list(enumerate(items, 1)))


async def engine_for(runtime: Runtime) -> RuleEngine:
    directory = DeviceDirectory()
    await directory.refresh(runtime.db)
    engine = RuleEngine(directory.get)
    await engine.refresh(runtime.db)
    return engine


def threshold(key: str = "hot-lights", **params: Any) -> RuleCreate:
    return RuleCreate(
        key=key,
        name="Lights drawing too much",
        kind=RuleKind.THRESHOLD,
        asset_type="streetlight",
        communes=["talant"],
        params={"key": "power_w", "op": ">", "value": 100, "clear_value": 80, **params},
        severity=Severity.MINOR,
    )


async def evaluate(
    runtime: Runtime, engine: RuleEngine, values: dict[str, float], ts: datetime
) -> Evaluation:
    """One batch of power readings, evaluated (and its signals applied) in one
    transaction, as the gateway does."""
    newest = {(asset, "power_w"): (ts, value, None) for asset, value in values.items()}
    async with runtime.db.write() as session:
        evaluation = await engine.evaluate(session, newest, ts)
        await raising.apply(session, evaluation.signals, ts)
    return evaluation


async def rule_states(runtime: Runtime) -> dict[tuple[int, str], RuleState]:
    async with runtime.db.read() as session:
        rows = (await session.execute(select(RuleState))).scalars()
        return {(r.rule_id, r.asset_id): r for r in rows}


async def alarms(runtime: Runtime) -> list[Alarm]:
    async with runtime.db.read() as session:
        return list((await session.execute(select(Alarm).order_by(Alarm.id))).scalars())


async def test_minimum_duration_and_hysteresis_across_batches_and_processes(
    runtime: Runtime, system: Context
) -> None:
    await fleet(system)
    rule = await editing.create_rule(system, threshold(for_s=60))
    # Two gateway processes, each with its own engine: the state they share is the table.
    first, second = await engine_for(runtime), await engine_for(runtime)
    t0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    # SL-9 is in Dijon: outside the rule's communes, never evaluated.
    done = await evaluate(runtime, first, {"SL-1": 150, "SL-2": 50, "SL-9": 500}, t0)
    assert done.signals == []
    assert done.failed == []
    held = await rule_states(runtime)
    assert list(held) == [(rule.id, "SL-1")]
    assert held[(rule.id, "SL-1")].since == t0
    assert not held[(rule.id, "SL-1")].active

    assert (
        await evaluate(runtime, second, {"SL-1": 150}, t0 + timedelta(seconds=30))
    ).signals == []
    raised = await evaluate(runtime, first, {"SL-1": 150}, t0 + timedelta(seconds=61))
    [signal] = raised.signals
    assert (signal.asset_id, signal.active, signal.rule_id) == ("SL-1", True, rule.id)
    assert signal.alarm_type == "rule:hot-lights"
    assert signal.severity is Severity.MINOR
    assert signal.source is AlarmSource.RULE
    assert signal.detail["value"] == 150
    assert signal.detail["threshold"] == 100
    assert (await rule_states(runtime))[(rule.id, "SL-1")].active
    [alarm] = await alarms(runtime)
    assert (alarm.asset_id, alarm.rule_id, alarm.severity) == ("SL-1", rule.id, "minor")
    assert alarm.active_key is not None

    # Flapping around 100 changes nothing; back under 80 clears, once.
    for offset, value in ((70, 99.0), (80, 101.0), (90, 85.0), (100, 130.0)):
        moment = t0 + timedelta(seconds=offset)
        assert (await evaluate(runtime, second, {"SL-1": value}, moment)).signals == []
    # A reading older than the state (delivered late through the other process) is ignored.
    late = await evaluate(runtime, first, {"SL-1": 10}, t0 + timedelta(seconds=95))
    assert late.signals == []
    cleared = await evaluate(runtime, first, {"SL-1": 75}, t0 + timedelta(seconds=110))
    assert [(s.asset_id, s.active) for s in cleared.signals] == [("SL-1", False)]
    assert await rule_states(runtime) == {}
    [alarm] = await alarms(runtime)
    assert alarm.active_key is None
    assert alarm.cleared_by == f"rule:{rule.id}"


async def test_a_failing_rule_is_disabled_and_ingestion_goes_on(
    runtime: Runtime, system: Context
) -> None:
    await fleet(system)
    good = await editing.create_rule(
        system,
        RuleCreate(
            key="cabinet-power",
            name="Cabinet power",
            kind=RuleKind.THRESHOLD,
            asset_type="lighting_cabinet",
            params={"key": "power_w", "op": ">", "value": 1000, "clear_value": 900},
        ),
    )
    # A threshold on a text key: the API refuses it, but a row stored by hand (or before
    # the catalogue changed) gets through; the engine must survive it.
    now = utcnow()
    async with runtime.db.write() as session:
        bad = MonitoringRule(
            key="bad-mode", name="Bad", kind="threshold", asset_type="lighting_cabinet",
            communes=None, params={"key": "mode", "op": ">", "value": 1, "clear_value": 0},
            alarm_type="rule:bad-mode", severity="major", enabled=True, version=1,
            created_at=now, created_by="tests", updated_at=now, updated_by="tests",
        )  # fmt: skip
        session.add(bad)
    engine = await engine_for(runtime)
    assert set(engine.rules) == {good.id, bad.id}
    observer = AlarmObserver(engine)
    store = TelemetryStore(runtime.db, [observer])
    ts = now - timedelta(seconds=5)
    points = (("mode", ts, None, "manual"), ("power_w", ts, 1500.0, None))
    written = await store.write(Batch(readings=[Readings("LC-1", points)]), now)

    assert written.points == 2
    async with runtime.db.read() as session:
        stored = (await session.execute(select(func.count()).select_from(LatestValue))).scalar()
    assert stored == 2
    [alarm] = await alarms(runtime)
    assert (alarm.rule_id, alarm.asset_id) == (good.id, "LC-1")
    failed = observer.take_failed()
    assert [rule_id for rule_id, _ in failed] == [bad.id]
    assert "arrived as text" in failed[0][1]
    # Already out of this process's evaluation, before it is even disabled.
    assert set(engine.rules) == {good.id}

    events = await engine.disable_failed(runtime.db, failed)
    [disabled] = [e for e in events if isinstance(e, RuleDisabled)]
    assert disabled.rule_id == bad.id
    assert "arrived as text" in disabled.error
    # Another gateway reporting the same failure disables nothing twice.
    assert await engine.disable_failed(runtime.db, failed) == []
    shown = await reading.get_rule(system, bad.id)
    assert not shown.enabled
    assert shown.error
    assert "mode" in shown.error
    assert shown.errored_at is not None
    assert shown.version == 2
    # Stored by hand, it had no version 1 to keep; the engine's change is kept.
    versions = await reading.rule_versions(system, bad.id)
    assert [(v.version, v.changed_by) for v in versions] == [(2, "system:rules-engine")]
    assert versions[0].definition["enabled"] is False
    async with runtime.db.read() as session:
        audited = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "rule.disable"))
        ).scalar_one()
    assert audited.target_id == str(bad.id)
    assert audited.details["after"]["enabled"] is False

    # A new process finds it disabled; the next batch goes through cleanly.
    later = await engine_for(runtime)
    assert set(later.rules) == {good.id}
    again = await TelemetryStore(runtime.db, [AlarmObserver(later)]).write(
        Batch(readings=[Readings("LC-1", (("mode", now, None, "automatic"),))]), now
    )
    assert again.points == 1


async def test_a_database_failure_in_the_rules_does_not_fail_the_batch(
    runtime: Runtime, system: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fleet(system)
    await editing.create_rule(system, threshold())
    engine = await engine_for(runtime)

    async def broken(session: Any, *_: Any) -> None:
        await session.execute(text("SELECT no_such_column FROM rule_states"))

    monkeypatch.setattr(states, "save", broken)
    observer = AlarmObserver(engine)
    now = utcnow()
    batch = Batch(readings=[Readings("SL-1", (("power_w", now, 500.0, None),))])
    written = await TelemetryStore(runtime.db, [observer]).write(batch, now)
    # The rules' savepoint was rolled back; the readings were stored all the same.
    assert written.points == 1
    async with runtime.db.read() as session:
        assert (await session.execute(select(LatestValue.value))).scalar_one() == 500.0
    assert await alarms(runtime) == []
    assert observer.take_failed() == []


async def test_no_data_raised_by_the_job_and_cleared_by_ingest(
    runtime: Runtime, system: Context
) -> None:
    await fleet(system)
    silent = await editing.create_rule(
        system,
        RuleCreate(
            key="silent-lights",
            name="No power reading",
            kind=RuleKind.NO_DATA,
            asset_type="streetlight",
            communes=["talant"],
            params={"key": "power_w", "minutes": 15},
        ),
    )
    # Any key at all, in Dijon: the device's last word (device_status.last_seen_at).
    mute = await editing.create_rule(
        system,
        RuleCreate(
            key="mute-dijon",
            name="Silent light",
            kind=RuleKind.NO_DATA,
            asset_type="streetlight",
            communes=["dijon"],
            params={"minutes": 15},
        ),
    )
    engine = await engine_for(runtime)
    store = TelemetryStore(runtime.db, [AlarmObserver(engine)])
    t0 = utcnow()
    await store.write(Batch(readings=[Readings("SL-1", (("power_w", t0, 40.0, None),))]), t0)

    async def job(now: datetime) -> list[tuple[str, bool]]:
        async with runtime.db.write() as session:
            signals, failed = await jobs.missing_data(session, now)
            assert failed == []
            await raising.apply(session, signals, now)
        return [(s.asset_id, s.active) for s in signals]

    # SL-2 never reported, but was created just now: it gets the same 15 minutes.
    assert await job(t0 + timedelta(minutes=10)) == []
    t20 = t0 + timedelta(minutes=20)
    assert await job(t20) == [("SL-1", True), ("SL-2", True), ("SL-9", True)]
    states_now = await rule_states(runtime)
    assert set(states_now) == {(silent.id, "SL-1"), (silent.id, "SL-2"), (mute.id, "SL-9")}
    assert states_now[(silent.id, "SL-1")].last_ts == t0
    # Raised once, not at every run.
    assert await job(t20 + timedelta(minutes=1)) == []
    active = {(a.asset_id, a.alarm_type) for a in await alarms(runtime) if a.active_key}
    assert active == {
        ("SL-1", "rule:silent-lights"),
        ("SL-2", "rule:silent-lights"),
        ("SL-9", "rule:mute-dijon"),
    }

    # Readings arrive: the ingest path clears the silences in its transaction (any key
    # for the Dijon rule).
    t22 = t0 + timedelta(minutes=22)
    batch = Batch(
        readings=[
            Readings("SL-1", (("power_w", t22, 41.0, None),)),
            Readings("SL-9", (("level_pct", t22, 0.0, None),)),
        ]
    )
    await store.write(batch, t22)
    assert {a.asset_id for a in await alarms(runtime) if a.active_key} == {"SL-2"}
    assert set(await rule_states(runtime)) == {(silent.id, "SL-2")}
    assert await job(t22 + timedelta(minutes=1)) == []

    # The job clears what ended without the ingest path seeing it (here: a reading
    # written with no rule engine at all).
    t25 = t0 + timedelta(minutes=25)
    await TelemetryStore(runtime.db).write(
        Batch(readings=[Readings("SL-2", (("power_w", t25, 1.0, None),))]), t25
    )
    events = await jobs.check_missing_data(runtime.db, t25 + timedelta(seconds=30))
    assert events
    assert await rule_states(runtime) == {}
    assert not [a for a in await alarms(runtime) if a.active_key]


async def test_state_mismatch_with_the_citys_clock(runtime: Runtime, system: Context) -> None:
    await fleet(system)
    rule = await editing.create_rule(
        system,
        RuleCreate(
            key="lit-by-day",
            name="Lit in daylight",
            kind=RuleKind.STATE_MISMATCH,
            asset_type="streetlight",
            params={"key": "level_pct", "op": ">", "value": 0, "when": "daylight"},
        ),
    )
    engine = await engine_for(runtime)
    noon = datetime(2026, 12, 21, 11, 0, tzinfo=UTC)  # 12:00 in Paris
    evening = datetime(2026, 12, 21, 17, 0, tzinfo=UTC)  # 18:00, dark in December
    newest = {("SL-1", "level_pct"): (noon, 100.0, None), ("SL-2", "level_pct"): (noon, 0.0, None)}
    async with runtime.db.write() as session:
        lit = await engine.evaluate(session, newest, noon)
    assert [(s.asset_id, s.active, s.rule_id) for s in lit.signals] == [("SL-1", True, rule.id)]
    async with runtime.db.write() as session:
        dark = await engine.evaluate(
            session, {("SL-1", "level_pct"): (evening, 100.0, None)}, evening
        )
    assert [(s.asset_id, s.active) for s in dark.signals] == [("SL-1", False)]


async def test_rate_of_change_keeps_the_previous_reading(runtime: Runtime, system: Context) -> None:
    await fleet(system)
    await editing.create_rule(
        system,
        RuleCreate(
            key="power-jump",
            name="Power jump",
            kind=RuleKind.RATE_OF_CHANGE,
            asset_type="streetlight",
            params={"key": "power_w", "max_delta": 20, "per_s": 60},
        ),
    )
    engine = await engine_for(runtime)
    t0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert (await evaluate(runtime, engine, {"SL-1": 40}, t0)).signals == []
    assert (await evaluate(runtime, engine, {"SL-1": 50}, t0 + timedelta(minutes=1))).signals == []
    jump = await evaluate(runtime, engine, {"SL-1": 150}, t0 + timedelta(minutes=2))
    assert [(s.active, s.detail["rate"]) for s in jump.signals] == [(True, 100.0)]
    calm = await evaluate(runtime, engine, {"SL-1": 150}, t0 + timedelta(minutes=3))
    assert [s.active for s in calm.signals] == [False]


def problem_fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [e["field"] for e in response.json()["errors"]]


async def test_rules_api(client: httpx.AsyncClient, system: Context, runtime: Runtime) -> None:
    admin = await make_person(system, "admin", [Role.ADMIN])
    operator = await make_person(system, "op", [Role.OPERATOR])
    talant = await make_person(system, "talant-sup", [Role.SUPERVISOR], communes=["talant"])
    body = threshold().model_dump(mode="json", exclude_none=True) | {"communes": None}

    created = await client.post(f"{API}/rules", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert (rule["version"], rule["alarm_type"], rule["communes"]) == (1, "rule:hot-lights", None)
    url = f"{API}/rules/{rule['id']}"
    again = await client.post(f"{API}/rules", json=body, headers=admin.headers)
    assert again.status_code == 409

    # Reading is for whoever reads alarms; writing needs rule:write.
    listed = await client.get(f"{API}/rules", headers=operator.headers)
    assert [r["key"] for r in listed.json()] == ["hot-lights"]
    denied = await client.post(
        f"{API}/rules", json=body | {"key": "other"}, headers=operator.headers
    )
    assert denied.status_code == 403
    assert (await client.delete(url, headers=operator.headers)).status_code == 403

    # Edits name the version they replace; a stale one is refused with the current one.
    edit = body | {"version": 1, "params": body["params"] | {"value": 120}}
    updated = await client.put(url, json=edit, headers=admin.headers)
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2
    assert updated.json()["params"]["value"] == 120
    stale = await client.put(url, json=edit | {"name": "x"}, headers=admin.headers)
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert "version 2" in stale.json()["detail"]
    versions = (await client.get(f"{url}/versions", headers=operator.headers)).json()
    assert [(v["version"], v["definition"]["params"]["value"]) for v in versions] == [
        (1, 100),
        (2, 120),
    ]

    # Bad input names its field; nothing is written.
    wrong_side = body | {"key": "x1", "params": body["params"] | {"clear_value": 130}}
    bad = await client.post(f"{API}/rules", json=wrong_side, headers=admin.headers)
    assert problem_fields(bad) == ["params.clear_value"]
    no_key = body | {"key": "x2", "params": {"op": ">", "value": 1, "clear_value": 0}}
    bad = await client.post(f"{API}/rules", json=no_key, headers=admin.headers)
    assert problem_fields(bad) == ["params.key"]
    rate = {"key": "power_w", "max_delta": float("nan"), "per_s": 60}
    not_a_number = body | {"key": "x5", "kind": "rate_of_change", "params": rate}
    bad = await client.post(
        f"{API}/rules",
        content=json.dumps(not_a_number),  # NaN: valid for Python's parser, not for JSON
        headers=admin.headers | {"Content-Type": "application/json"},
    )
    assert problem_fields(bad) == ["params.max_delta"]
    unknown = body | {"key": "x3", "asset_type": "lamppost"}
    assert problem_fields(await client.post(f"{API}/rules", json=unknown, headers=admin.headers))
    assert problem_fields(
        await client.post(
            f"{API}/rules",
            json=body | {"key": "x4", "communes": ["atlantis"]},
            headers=admin.headers,
        )
    ) == ["communes[0]"]
    bad_edit = await client.put(
        url,
        json=edit | {"version": 2, "params": edit["params"] | {"key": "nope"}},
        headers=admin.headers,
    )
    assert problem_fields(bad_edit) == ["params.key"]
    assert (await client.get(url, headers=admin.headers)).json()["version"] == 2

    # Commune scope: Talant's supervisor writes Talant's rules only.
    local = body | {"key": "talant-lights", "communes": ["talant"]}
    mine = await client.post(f"{API}/rules", json=local, headers=talant.headers)
    assert mine.status_code == 201, mine.text
    for communes in (None, ["dijon"], ["talant", "dijon"]):
        refused = await client.post(
            f"{API}/rules", json=local | {"key": "t2", "communes": communes}, headers=talant.headers
        )
        assert refused.status_code == 403, (communes, refused.text)
    # The metropolis-wide rule applies to Talant too: seen, but not editable.
    assert (await client.get(url, headers=talant.headers)).status_code == 200
    wide = await client.put(url, json=edit | {"version": 2}, headers=talant.headers)
    assert wide.status_code == 403
    dijon = await client.post(
        f"{API}/rules", json=body | {"key": "dijon-lights", "communes": ["dijon"]},
        headers=admin.headers,
    )  # fmt: skip
    mixed = await client.post(
        f"{API}/rules",
        json=body | {"key": "both-lights", "communes": ["talant", "dijon"]},
        headers=admin.headers,
    )
    # Rules naming a commune outside the scope stay hidden, even when Talant is in it.
    for hidden in (dijon, mixed):
        hidden_url = f"{API}/rules/{hidden.json()['id']}"
        assert (await client.get(hidden_url, headers=talant.headers)).status_code == 404
        assert (
            await client.get(f"{hidden_url}/versions", headers=talant.headers)
        ).status_code == 404
        gone = await client.delete(hidden_url, headers=talant.headers)
        assert gone.status_code == 404
    seen = {r["key"] for r in (await client.get(f"{API}/rules", headers=talant.headers)).json()}
    assert seen == {"hot-lights", "talant-lights"}

    # Enabling an enabled rule is refused; disabling through an edit, then enabling, works.
    enable = f"{url}/enable"
    assert (await client.post(enable, headers=admin.headers)).status_code == 409
    off = await client.put(url, json=edit | {"version": 2, "enabled": False}, headers=admin.headers)
    assert off.json()["enabled"] is False
    on = await client.post(enable, json={"version": 3}, headers=admin.headers)
    assert on.status_code == 200
    assert on.json()["enabled"]
    assert on.json()["version"] == 4

    deleted = await client.delete(url, params={"version": 4}, headers=admin.headers)
    assert deleted.status_code == 204
    assert (await client.get(url, headers=admin.headers)).status_code == 404

    async with runtime.db.read() as session:
        entries = (
            await session.execute(
                select(AuditEntry)
                .where(
                    AuditEntry.target_type == "rule",
                    AuditEntry.target_id == str(rule["id"]),
                    AuditEntry.outcome == "success",
                )
                .order_by(AuditEntry.seq)
            )
        ).scalars().all()  # fmt: skip
        kept = (
            await session.execute(select(func.count()).where(RuleVersion.rule_id == rule["id"]))
        ).scalar()
    assert [e.action for e in entries] == [
        "rule.create",
        "rule.update",
        "rule.update",
        "rule.enable",
        "rule.delete",
    ]
    assert entries[1].details["before"]["params"]["value"] == 100
    assert entries[1].details["after"]["params"]["value"] == 120
    assert entries[-1].details["after"] is None
    assert kept == 4


async def test_changing_a_rule_clears_its_alarms_and_applies_at_once(
    runtime: Runtime, system: Context
) -> None:
    await fleet(system)
    rule = await editing.create_rule(system, threshold())
    engine = await engine_for(runtime)
    t0 = utcnow()
    assert len((await evaluate(runtime, engine, {"SL-1": 150, "SL-2": 150}, t0)).signals) == 2

    # Raised to 200: the alarms raised under 100 are cleared, and the engine, not
    # refreshed since, applies the new threshold from its next batch.
    edit = RuleUpdate(
        **threshold().model_dump() | {"params": threshold().params | {"value": 200}}, version=1
    )
    await editing.update_rule(system, rule.id, edit)
    assert not [a for a in await alarms(runtime) if a.active_key]
    assert await rule_states(runtime) == {}
    t1 = t0 + timedelta(seconds=10)
    assert (await evaluate(runtime, engine, {"SL-1": 150}, t1)).signals == []
    assert engine.rules[rule.id].version == 2
    t2 = t0 + timedelta(seconds=20)
    assert [s.active for s in (await evaluate(runtime, engine, {"SL-1": 250}, t2)).signals] == [
        True
    ]

    await editing.delete_rule(system, rule.id, reason="wrong threshold")
    assert (await evaluate(runtime, engine, {"SL-1": 90}, t0 + timedelta(seconds=30))).signals == []
    assert rule.id not in engine.rules
    assert not [a for a in await alarms(runtime) if a.active_key]
    assert await rule_states(runtime) == {}


async def test_http_device_ingest_runs_the_monitoring_rules(
    runtime: Runtime, system: Context, client: httpx.AsyncClient
) -> None:
    """Devices without MQTT post the same payloads and are followed up the same way: a
    threshold rule judges what they report (it did not before: only fault events did)."""
    from beffroi.devices.credentials import issue_credentials

    await fleet(system)
    await editing.create_rule(system, threshold())
    secret = dict(await issue_credentials(system, ["SL-1"]))["SL-1"]
    r = await client.post(
        "/api/v1/devices/SL-1/telemetry",
        json={"values": {"power_w": 150}},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert r.status_code == 202, r.text
    async with runtime.db.read() as session:
        alarms = (await session.execute(select(Alarm))).scalars().all()
    assert [(a.asset_id, a.alarm_type, a.source) for a in alarms] == [
        ("SL-1", "rule:hot-lights", AlarmSource.RULE.value)
    ]
