"""Crisis plans on both databases: a plan started by one person waits for a second; its
steps move in order (a checklist ticked, a group command through the normal command
lifecycle, a notification list told by webhook and e-mail, a step above the run's level
skipped); a failed step is shown and reported; commune scope; bad input refused naming
its field, nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from beffroi.commands.dispatcher import CommandDispatcher
from beffroi.commands.tracker import CommandTracker
from beffroi.config import Settings, load_settings
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.notifications.delivery import send_due
from beffroi.plans import jobs, progress, starter
from beffroi.plans import reading as plans_reading
from beffroi.plans.lifecycle import AlertLevel
from beffroi.telemetry.decode import Reply, Status
from beffroi.telemetry.store import Batch, TelemetryStore
from tests.integration.notify_support import Receiver, Smtp, free_port
from tests.integration.test_commands import ROOT
from tests.mqtt_support import DeviceSite, make_device_site
from tests.support import Person, audit_seq, audited_since, make_person, table_rows

pytestmark = pytest.mark.asyncio
API = "/api/v1/plans"
TABLES = ("plans", "plan_notify_lists", "plan_runs", "plan_run_steps", "plan_run_events")


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, smtp: Smtp) -> Settings:
    """The test database and a real SMTP server on loopback."""
    return load_settings(
        database_url=database_url,
        data_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="beffroi@example.org",
        notification_timeout_s=5,
    )


class Field:
    """The devices' side, as the gateway sees it: the dispatcher sends what is due, the
    store takes the replies (the tracker moves each command)."""

    def __init__(self, runtime: Runtime) -> None:
        self.tracker = CommandTracker(root=ROOT, verify_window=timedelta(minutes=5))
        self.store = TelemetryStore(runtime.db, [self.tracker])
        self.sent: list[str] = []
        self.dispatcher = CommandDispatcher(
            runtime.db,
            runtime.events,
            lambda topic, _p: self.sent.append(topic),
            self.tracker,
            root=ROOT,
        )

    async def online(self, *assets: str) -> None:
        now = utcnow()
        await self.store.write(
            Batch(statuses=[Status(a, True, None, now, "status", None) for a in assets])
        )

    async def answer(self, runtime: Runtime, batch_id: str, status: str) -> None:
        assert await self.dispatcher.dispatch_due() >= 1
        async with runtime.db.read() as session:
            rows = (
                await session.execute(
                    text("SELECT id, asset_id FROM commands WHERE batch_id = :b"), {"b": batch_id}
                )
            ).all()
        now = utcnow()
        await self.store.write(Batch(replies=[Reply(a, c, status, {}, now) for c, a in rows]))


async def people(system: Context) -> tuple[Person, Person, Person]:
    """Two Talant supervisors (one starts, the other approves) and a Talant operator."""
    first = await make_person(system, "sup-one", [Role.SUPERVISOR], ["talant"])
    second = await make_person(system, "sup-two", [Role.SUPERVISOR], ["talant"])
    operator = await make_person(system, "op-talant", [Role.OPERATOR], ["talant"])
    return first, second, operator


def snow_plan(site: DeviceSite, list_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Plan neige Talant",
        "kind": "snow",
        "communes": ["talant"],
        "steps": [
            {
                "kind": "checklist",
                "title": "Préparer",
                "items": ["Appeler l'équipe de salage", "Lire Météo-France"],
            },
            {
                "kind": "command",
                "title": "Éclairage renforcé",
                "min_level": 2,
                "type": "streetlight",
                "name": "dim",
                "params": {"level_pct": 100},
                "target": {"kind": "ids", "asset_ids": [site.child]},
            },
            {
                "kind": "notify",
                "title": "Prévenir les astreintes",
                "list_id": list_id,
                "message": "Plan neige déclenché",
            },
            {
                "kind": "checklist",
                "title": "Fermer la côte",
                "min_level": 3,
                "items": ["Barrières posées"],
            },
        ],
        **extra,
    }


async def make_list(client: httpx.AsyncClient, h: dict[str, str], receiver: Receiver) -> int:
    body = {
        "name": "Astreintes Talant",
        "communes": ["talant"],
        "recipients": [
            {"name": "SMS astreinte", "channel": "webhook", "target": receiver.url},
            {"name": "Chef de quart", "channel": "email", "target": "quart@talant.example"},
        ],
    }
    return int(ok(await client.post(f"{API}/notify-lists", json=body, headers=h), 201)["id"])


async def test_a_snow_night_runs_step_by_step_after_a_second_approval(
    client: httpx.AsyncClient,
    runtime: Runtime,
    system: Context,
    admin: Person,
    receiver: Receiver,
    smtp: Smtp,
) -> None:
    site = await make_device_site(system)
    field = Field(runtime)
    await field.online(site.gateway, site.child)
    first, second, _ = await people(system)
    list_id = await make_list(client, first.headers, receiver)
    plan = ok(await client.post(API, json=snow_plan(site, list_id), headers=first.headers), 201)
    seq = await audit_seq(runtime)

    run = ok(
        await client.post(
            f"{API}/{plan['id']}/runs",
            json={"level": 2, "reason": "Neige annoncée cette nuit"},
            headers=first.headers,
        ),
        201,
    )
    assert run["state"] == "awaiting_approval"
    assert {s["state"] for s in run["steps"]} == {"pending"}
    rid = run["id"]
    # Nothing moves before the second person: the job finds no running run.
    assert await jobs.advance_runs(system) == 0
    # Four eyes: the starter may not approve their own run.
    refused = await client.post(f"{API}/runs/{rid}/approve", json={}, headers=first.headers)
    assert refused.status_code == 403, refused.text
    run = ok(await client.post(f"{API}/runs/{rid}/approve", json={}, headers=second.headers))
    assert run["state"] == "running"
    assert run["decided_by"] == "sup-two"
    assert [s["state"] for s in run["steps"]] == ["running", "pending", "pending", "pending"]

    # The checklist, ticked by two people; its last item starts the group command.
    ok(await client.post(f"{API}/runs/{rid}/steps/0/items/0", headers=first.headers))
    again = await client.post(f"{API}/runs/{rid}/steps/0/items/0", headers=second.headers)
    assert again.status_code == 409
    run = ok(await client.post(f"{API}/runs/{rid}/steps/0/items/1", headers=second.headers))
    items = run["steps"][0]["items"]
    assert [i["done_by"] for i in items] == ["sup-one", "sup-two"]
    assert run["steps"][0]["state"] == "done"
    command = run["steps"][1]
    assert command["state"] == "running"
    batch = ok(
        await client.get(f"/api/v1/command-batches/{command['batch_id']}", headers=second.headers)
    )
    # The normal lifecycle: queued (no second approval: the run's was the four-eyes one).
    assert batch["counts"]["queued"] == 1
    assert batch["state"] == "running"
    assert batch["created_by"] == f"plan-run:{rid}"

    # The light obeys; the next turn ends the step and tells the list.
    await field.answer(runtime, command["batch_id"], "succeeded")
    await progress.advance(runtime, rid)
    run = ok(await client.get(f"{API}/runs/{rid}", headers=first.headers))
    assert run["steps"][1]["state"] == "done", run["steps"][1]
    assert run["steps"][1]["outcome"] == "1 succeeded"
    notify = run["steps"][2]
    assert notify["state"] == "running"
    assert len(notify["delivery_ids"]) == 2
    async with httpx.AsyncClient() as http:
        await send_due(runtime.db, runtime.settings, utcnow(), client=http)
    [hook] = receiver.bodies()
    assert hook["kind"] == "message"
    assert hook["text"] == "[Plan neige Talant] Plan neige déclenché"
    assert hook["recipient"] == "SMS astreinte"
    [(to, mail)] = smtp.mailbox.messages
    assert to == ["quart@talant.example"]
    assert mail["Subject"] == "[Plan neige Talant] Plan neige déclenché"

    # Work opened while the plan runs, in its commune and in another: the report keeps
    # Talant's.
    for commune, title in (("talant", "Arbre tombé rue de la Libération"), ("chenove", "x")):
        work = {"category": "snow", "title": title, "commune": commune}
        ok(await client.post("/api/v1/interventions", json=work, headers=admin.headers), 201)
    await jobs.advance_runs(system)
    run = ok(await client.get(f"{API}/runs/{rid}", headers=first.headers))
    assert [s["state"] for s in run["steps"]] == ["done", "done", "done", "skipped"]
    assert run["steps"][3]["outcome"] == "below the run's level"
    assert run["state"] == "finished"

    report = ok(await client.get(f"{API}/runs/{rid}/report", headers=first.headers))
    kinds = [e["kind"] for e in report["timeline"]]
    assert kinds[:3] == ["started", "approved", "step_started"]
    assert kinds[-1] == "finished"
    assert report["commands"] == [
        {
            "position": 1,
            "title": "Éclairage renforcé",
            "batch_id": command["batch_id"],
            "type": "streetlight",
            "name": "dim",
            "total": 1,
            "states": {"succeeded": 1},
        }
    ]
    assert [e["commune"] for e in report["energy"]] == ["talant"]
    assert [(i["commune"], i["title"]) for i in report["interventions"]] == [
        ("talant", "Arbre tombé rue de la Libération")
    ]
    csv_text = (await client.get(f"{API}/runs/{rid}/report.csv", headers=first.headers)).text
    assert "command,,1," in csv_text
    assert "succeeded=1" in csv_text

    closed = ok(await client.post(f"{API}/runs/{rid}/close", json={}, headers=second.headers))
    assert closed["state"] == "closed"
    actions = [e.action for e in await audited_since(runtime, seq)]
    for action in (
        "plan_run.start",
        "plan_run.approve.refused",
        "plan_run.approve",
        "plan_run.tick",
        "plan_run.tick.refused",
        "command_batch.create",
        "plan_run.step",
        "plan_run.finish",
        "plan_run.close",
    ):
        assert action in actions, action


async def test_a_failed_step_is_shown_and_the_plan_goes_on(
    client: httpx.AsyncClient, runtime: Runtime, system: Context, receiver: Receiver
) -> None:
    site = await make_device_site(system)
    field = Field(runtime)
    await field.online(site.gateway, site.child)
    first, second, operator = await people(system)
    list_id = await make_list(client, first.headers, receiver)
    body = snow_plan(site, list_id)
    body["steps"] = [body["steps"][1], {"kind": "checklist", "title": "Bilan", "items": ["Fait"]}]
    plan = ok(await client.post(API, json=body, headers=first.headers), 201)
    # An operator starts (plan:run), a supervisor approves.
    run = ok(
        await client.post(
            f"{API}/{plan['id']}/runs",
            json={"level": 3, "reason": "Verglas"},
            headers=operator.headers,
        ),
        201,
    )
    denied = await client.post(f"{API}/runs/{run['id']}/approve", json={}, headers=operator.headers)
    assert denied.status_code == 403
    run = ok(await client.post(f"{API}/runs/{run['id']}/approve", json={}, headers=second.headers))
    batch_id = run["steps"][0]["batch_id"]
    await field.answer(runtime, batch_id, "failed")
    await jobs.advance_runs(system)
    run = ok(await client.get(f"{API}/runs/{run['id']}", headers=operator.headers))
    assert run["steps"][0]["state"] == "failed"
    assert run["steps"][0]["outcome"] == "1 failed"
    assert run["steps"][1]["state"] == "running"
    report = ok(await client.get(f"{API}/runs/{run['id']}/report", headers=operator.headers))
    assert report["commands"][0]["states"] == {"failed": 1}
    assert "step_failed" in [e["kind"] for e in report["timeline"]]


async def test_a_run_refused_does_nothing(
    client: httpx.AsyncClient, runtime: Runtime, system: Context, receiver: Receiver
) -> None:
    site = await make_device_site(system)
    first, second, _ = await people(system)
    list_id = await make_list(client, first.headers, receiver)
    plan = ok(await client.post(API, json=snow_plan(site, list_id), headers=first.headers), 201)
    run = ok(
        await client.post(
            f"{API}/{plan['id']}/runs", json={"level": 1, "reason": "x"}, headers=first.headers
        ),
        201,
    )
    no_reason = await client.post(f"{API}/runs/{run['id']}/refuse", json={}, headers=second.headers)
    assert no_reason.status_code == 422
    assert "reason" in no_reason.text
    run = ok(
        await client.post(
            f"{API}/runs/{run['id']}/refuse",
            json={"reason": "Pas de neige"},
            headers=second.headers,
        )
    )
    assert run["state"] == "refused"
    assert {s["state"] for s in run["steps"]} == {"pending"}
    late = await client.post(f"{API}/runs/{run['id']}/approve", json={}, headers=second.headers)
    assert late.status_code == 409


async def test_commune_scope_and_bad_input(
    client: httpx.AsyncClient,
    runtime: Runtime,
    system: Context,
    admin: Person,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = await make_device_site(system)
    first, _, operator = await people(system)
    chenove_plan = {
        "name": "Crue Chenôve",
        "kind": "flood",
        "communes": ["chenove"],
        "steps": [{"kind": "checklist", "title": "Digues", "items": ["Vérifier"]}],
    }
    made = ok(await client.post(API, json=chenove_plan, headers=admin.headers), 201)
    list_id = await make_list(client, first.headers, receiver)
    mine = ok(await client.post(API, json=snow_plan(site, list_id), headers=first.headers), 201)
    # A Talant user sees the plans within Talant only.
    names = [p["name"] for p in ok(await client.get(API, headers=operator.headers))]
    assert names == ["Plan neige Talant"]
    hidden = await client.get(f"{API}/{made['id']}", headers=operator.headers)
    assert hidden.status_code == 404
    start = await client.post(
        f"{API}/{made['id']}/runs", json={"level": 1, "reason": "x"}, headers=operator.headers
    )
    assert start.status_code == 404
    talant_run = ok(
        await client.post(
            f"{API}/{mine['id']}/runs", json={"level": 1, "reason": "x"}, headers=operator.headers
        ),
        201,
    )
    chenove_run = ok(
        await client.post(
            f"{API}/{made['id']}/runs", json={"level": 1, "reason": "x"}, headers=admin.headers
        ),
        201,
    )
    # The list holds the newest runs in scope: with room for one, the Talant user's is
    # found behind the newer Chenôve run.
    monkeypatch.setattr(plans_reading, "MAX_RUNS", 1)
    seen = ok(await client.get(f"{API}/runs", headers=operator.headers))
    assert [r["id"] for r in seen] == [talant_run["id"]]
    everything = ok(await client.get(f"{API}/runs", headers=admin.headers))
    assert [r["id"] for r in everything] == [chenove_run["id"]]

    before = await table_rows(runtime, *TABLES)
    bad: list[tuple[dict[str, Any], str]] = [
        # A Talant plan naming Chenôve's light: refused as unknown, naming the field.
        (
            {
                **snow_plan(site, list_id),
                "name": "x",
                "steps": [
                    {
                        **snow_plan(site, list_id)["steps"][1],
                        "target": {"kind": "ids", "asset_ids": [site.other]},
                    }
                ],
            },
            "steps[0].target",
        ),
        ({**snow_plan(site, list_id), "name": "y", "communes": ["chenove"]}, "chenove"),
        ({**snow_plan(site, list_id), "name": "z", "communes": ["atlantis"]}, "communes[0]"),
        ({**snow_plan(site, 987_654), "name": "w"}, "steps[2].list_id"),
        (
            {
                **snow_plan(site, list_id),
                "name": "v",
                "steps": [{**snow_plan(site, list_id)["steps"][1], "name": "explode"}],
            },
            "steps[0].name",
        ),
        ({**snow_plan(site, list_id), "name": mine["name"]}, "already exists"),
        # Cameras are steered within a view session by a habilitated agent, never by a plan.
        (
            {
                **snow_plan(site, list_id),
                "name": "u",
                "steps": [
                    {
                        "kind": "command",
                        "title": "Caméra",
                        "type": "camera",
                        "name": "goto_preset",
                        "params": {"preset": 1},
                        "target": {"kind": "commune", "commune": "talant"},
                    }
                ],
            },
            "video session",
        ),
    ]
    for body, named in bad:
        refused = await client.post(API, json=body, headers=first.headers)
        assert refused.status_code in (403, 409, 422), refused.text
        assert named in refused.text, refused.text
    level = await client.post(
        f"{API}/{mine['id']}/runs", json={"level": 7, "reason": "x"}, headers=first.headers
    )
    assert level.status_code == 422
    assert "level" in level.text
    bad_target = {
        "name": "Liste",
        "recipients": [{"name": "x", "channel": "email", "target": "not-an-address"}],
        "communes": ["talant"],
    }
    refused = await client.post(f"{API}/notify-lists", json=bad_target, headers=first.headers)
    assert refused.status_code == 422
    assert "recipients[0].target" in refused.text
    assert await table_rows(runtime, *TABLES) == before


async def test_the_demo_plays_a_snow_night(
    client: httpx.AsyncClient, runtime: Runtime, system: Context, admin: Person, smtp: Smtp
) -> None:
    sign = {
        "id": "PMV-TAL-01",
        "type": "message_sign",
        "name": "PMV avenue du Mont Afrique",
        "commune": "talant",
        "location": {"type": "Point", "coordinates": [5.005, 47.337]},
        "attributes": {"lines": 2, "width_chars": 16},
    }
    ok(await client.post("/api/v1/assets", json=sign, headers=admin.headers), 201)
    await make_device_site(system)  # streetlights for the heavy-snow step
    first = await starter.seed_winter_plan(system)
    assert await starter.seed_winter_plan(system) == first
    run = await starter.snow_night(system, AlertLevel.SALTING)
    assert run.state == "running"
    assert (run.started_by, run.decided_by) == ("demo:dispatcher", "demo:duty-officer")
    assert [s.state for s in run.steps][:2] == ["done", "running"]
    async with httpx.AsyncClient() as http:
        await send_due(runtime.db, runtime.settings, utcnow(), client=http)
    [(to, _mail)] = smtp.mailbox.messages
    assert to == ["astreinte-hiver@example.org"]
    await progress.advance(runtime, run.id)
    now = ok(await client.get(f"{API}/runs/{run.id}", headers=admin.headers))
    signs = now["steps"][2]
    assert signs["state"] == "running"
    batch = ok(
        await client.get(f"/api/v1/command-batches/{signs['batch_id']}", headers=admin.headers)
    )
    assert (batch["type"], batch["name"], batch["total"]) == ("message_sign", "display", 1)
    assert batch["params"] == {"text": starter.SIGN_TEXT}
    # Level 2: the heavy-snow step waits behind the signs, to be skipped in turn.
    assert now["steps"][3]["state"] == "pending"
