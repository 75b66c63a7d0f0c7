"""The crisis plans' part of the walks: the commune-scope walk (test_commune_scope.py),
where Chenôve's plan, notification list and running run are the targets, and the camera
walk (test_camera_visibility.py), where a plan's command step may name the camera."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

API = "/api/v1"
BASE = f"{API}/plans"
RUN = f"{BASE}/runs/{{run_id}}"
# Leak markers: the names of Chenôve's plan and list.
CHENOVE_PLAN = "pl-che-crue"
CHENOVE_LIST = "pl-che-astreinte"


@dataclass(frozen=True, slots=True)
class Pln:
    """Chenôve's plan and its running run (a checklist step under way), and Talant's."""

    chenove_plan: int
    chenove_run: int
    talant_run: int
    markers: tuple[str, ...] = (CHENOVE_PLAN, CHENOVE_LIST)


def plan_body(name: str, commune: str, step: dict[str, Any] | None = None) -> dict[str, Any]:
    """A plan of one step (a checklist unless ``step`` says otherwise) in ``commune``."""
    first = step or {"kind": "checklist", "title": "Vérifier", "items": ["Digues", "Pompes"]}
    return {"name": name, "kind": "flood", "communes": [commune], "steps": [first]}


def light_step(asset_id: str | int) -> dict[str, Any]:
    """A command step dimming one streetlight."""
    return {
        "kind": "command",
        "title": "Éclairage",
        "type": "streetlight",
        "name": "dim",
        "params": {"level_pct": 100},
        "target": {"kind": "ids", "asset_ids": [str(asset_id)]},
    }


def list_body(name: str, commune: str) -> dict[str, Any]:
    """A notification list of one e-mail address in ``commune``."""
    recipients = [{"name": "Astreinte", "channel": "email", "target": f"crue@{commune}.example"}]
    return {"name": name, "communes": [commune], "recipients": recipients}


async def build_plans(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    approver: dict[str, str],
    ok: Callable[..., Any],
) -> Pln:
    """Chenôve's list, plan and run (started by the administrator, approved by a
    metropolis supervisor: running), and a Talant plan's run awaiting approval."""
    ok(
        await client.post(
            f"{BASE}/notify-lists", json=list_body(CHENOVE_LIST, "chenove"), headers=admin
        ),
        201,
    )
    plan = ok(await client.post(BASE, json=plan_body(CHENOVE_PLAN, "chenove"), headers=admin), 201)
    start = {"level": 2, "reason": "crue de l'Ouche"}
    run = ok(await client.post(f"{BASE}/{plan['id']}/runs", json=start, headers=admin), 201)
    ok(await client.post(f"{BASE}/runs/{run['id']}/approve", json={}, headers=approver))
    mine = ok(await client.post(BASE, json=plan_body("Plan Talant", "talant"), headers=admin), 201)
    talant = ok(await client.post(f"{BASE}/{mine['id']}/runs", json=start, headers=admin), 201)
    return Pln(plan["id"], run["id"], talant["id"])


def plans_values(p: Pln) -> dict[str, list[str | int]]:
    """The plans' path parameters' values outside Talant."""
    return {"plan_id": [p.chenove_plan], "run_id": [p.chenove_run], "position": [0], "item": [0]}


def plans_plan(
    p: Pln, call: Any, aimed: Any, chenove_light: str
) -> dict[tuple[str, str], list[Any]]:
    """The routes of the plans (``call`` and ``aimed``: the walk's builders)."""
    why = {"reason": "walk"}
    return {
        ("GET", BASE): [call(), call("Talant", expect=200)],
        ("POST", BASE): [
            call("in Chenôve", json=plan_body("pl-walk-che", "chenove")),
            aimed(
                "Chenôve light",
                "asset_id",
                chenove_light,
                lambda v: plan_body("pl-walk-light", "talant", light_step(v)),
            ),
            call("in Talant", json=plan_body("pl-walk-tal", "talant"), expect=201),
        ],
        ("GET", f"{BASE}/notify-lists"): [call(), call("Talant", expect=200)],
        ("POST", f"{BASE}/notify-lists"): [
            call("in Chenôve", json=list_body("pl-walk-che", "chenove")),
            call("in Talant", json=list_body("pl-walk-tal", "talant"), expect=201),
        ],
        ("GET", f"{BASE}/{{plan_id}}"): [call()],
        ("POST", f"{BASE}/{{plan_id}}/runs"): [call(json={"level": 1, "reason": "walk"})],
        ("GET", f"{BASE}/runs"): [call(), call("Talant", expect=200)],
        ("GET", RUN): [
            call(),
            call("Talant's", path={"run_id": p.talant_run}, expect=200),
        ],
        ("POST", f"{RUN}/approve"): [call(json={})],
        ("POST", f"{RUN}/refuse"): [call(json=why)],
        ("POST", f"{RUN}/close"): [call(json=why)],
        # The step and item are pinned: the run is what is aimed at.
        ("POST", f"{RUN}/steps/{{position}}/items/{{item}}"): [
            call(path={"position": 0, "item": 0})
        ],
        ("POST", f"{RUN}/steps/{{position}}/skip"): [call(path={"position": 0}, json=why)],
        ("GET", f"{RUN}/report"): [call()],
        ("GET", f"{RUN}/report.csv"): [call()],
    }


# The walk's user writes Talant's plans and lists ("pl-walk-tal"): only Chenôve's are kept
# still. Literal names: the runs are found by their plan's name.
PLANS_SNAPSHOT = {
    "Chenôve's plans": "SELECT * FROM plans WHERE name LIKE 'pl-%che%' ORDER BY id",
    "Chenôve's lists": "SELECT * FROM plan_notify_lists WHERE name LIKE 'pl-%che%' ORDER BY id",
    "Chenôve's runs": "SELECT * FROM plan_runs WHERE plan_name = 'pl-che-crue' ORDER BY id",
    "Chenôve's run steps": (
        "SELECT s.* FROM plan_run_steps s JOIN plan_runs r ON r.id = s.run_id "
        "WHERE r.plan_name = 'pl-che-crue' ORDER BY s.run_id, s.position"
    ),
    "Chenôve's run timeline": (
        "SELECT e.* FROM plan_run_events e JOIN plan_runs r ON r.id = e.run_id "
        "WHERE r.plan_name = 'pl-che-crue' ORDER BY e.id"
    ),
}


def plans_camera_calls(call: Any, aimed: Any, camera: str) -> dict[tuple[str, str], list[Any]]:
    """The camera walk's plan writes: a command step naming the camera must answer as one
    naming nothing."""
    return {
        ("POST", BASE): [
            aimed(
                "a step on the camera",
                "asset_id",
                camera,
                lambda v: plan_body("pl-walk-cam", "talant", light_step(v)),
            )
        ],
    }


PLANS_NOT_CAMERA: dict[tuple[str, str], str] = {
    ("POST", f"{BASE}/notify-lists"): "a notification list names people, never an asset",
    ("POST", f"{BASE}/{{plan_id}}/runs"): "starts a plan written before (its steps were "
    "checked against the author's assets then: test_plans.py)",
    ("POST", f"{RUN}/approve"): "a decision on a run: names no asset",
    ("POST", f"{RUN}/refuse"): "a decision on a run: names no asset",
    ("POST", f"{RUN}/close"): "a decision on a run: names no asset",
    ("POST", f"{RUN}/steps/{{position}}/items/{{item}}"): "ticks a checklist item",
    ("POST", f"{RUN}/steps/{{position}}/skip"): "skips a step of a run",
}
