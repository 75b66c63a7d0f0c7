"""The traffic area's part of the commune-scope walk (test_commune_scope.py): Chenôve's
controllers, their plans and timetable, a plan imposed by hand and a corridor are the
targets; the listings are the controls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.integration.traffic_support import CONFIG, plan

API = "/api/v1"


@dataclass(frozen=True, slots=True)
class Traf:
    """Traffic: Chenôve's two configured controllers, a plan imposed by hand on the
    first, and the corridor along both."""

    chenove_controllers: tuple[str, str]
    chenove_selection: int
    chenove_corridor: int


def corridor_body(first: str | int, second: str | int) -> dict[str, Any]:
    """A corridor along two controllers."""
    return {
        "name": f"Corridor {first}",
        "members": [
            {"controller_id": str(first)},
            {"controller_id": str(second), "distance_m": 400},
        ],
        "speed_kmh": 50,
        "cycle_s": 70,
        "plan": 1,
    }


def manual_body() -> dict[str, Any]:
    """A plan imposed for an hour."""
    ends = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    return {"plan": 2, "ends_at": ends, "reason": "match"}


async def build_traffic(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    controllers: tuple[str, str],
    ok: Callable[..., Any],
) -> Traf:
    """Configure Chenôve's controllers (plans, timetable), impose a plan on the first,
    draw a corridor along both."""
    for cid in controllers:
        url = f"{API}/traffic/controllers/{cid}"
        ok(await client.put(f"{url}/config", json=CONFIG, headers=headers))
        ok(await client.put(f"{url}/plans/1", json=plan(1, 40, 30), headers=headers))
        ok(await client.put(f"{url}/plans/2", json=plan(2, 50, 40), headers=headers))
        table = {"entries": [{"days": [1, 2, 3, 4, 5, 6, 7], "start": "06:00", "plan": 2}]}
        ok(await client.put(f"{url}/timetable", json=table, headers=headers))
    first = f"{API}/traffic/controllers/{controllers[0]}"
    selection = ok(
        await client.post(f"{first}/manual-plan", json=manual_body(), headers=headers), 201
    )
    corridor = ok(
        await client.post(
            f"{API}/traffic/corridors", json=corridor_body(*controllers), headers=headers
        ),
        201,
    )
    return Traf(controllers, selection["id"], corridor["id"])


def traffic_values(t: Traf, chenove_light: str) -> dict[str, list[str | int]]:
    """The traffic path parameters' values outside Talant."""
    return {
        # Chenôve's controller, and a Chenôve asset that is no controller.
        "controller_id": [t.chenove_controllers[0], chenove_light],
        # Plan numbers are nobody's: the calls pin them, the controller is what is aimed at.
        "number": [1],
        "selection_id": [t.chenove_selection],
        "corridor_id": [t.chenove_corridor],
    }


def traffic_plan(t: Traf, call: Any, aimed: Any) -> dict[tuple[str, str], list[Any]]:
    """The routes of the traffic area (``call`` and ``aimed``: the walk's builders)."""
    base = f"{API}/traffic"
    controller = f"{base}/controllers/{{controller_id}}"
    corridor = f"{base}/corridors/{{corridor_id}}"
    second = t.chenove_controllers[1]
    return {
        ("GET", f"{base}/controllers"): [call(), call("Talant", expect=200)],
        ("GET", f"{controller}/config"): [call()],
        ("PUT", f"{controller}/config"): [call(json={**CONFIG, "version": 1})],
        ("GET", f"{controller}/plans"): [call()],
        ("POST", f"{controller}/plans/check"): [call(json=plan(1, 40, 30))],
        ("PUT", f"{controller}/plans/{{number}}"): [
            call(json=plan(1, 45, 25, version=1), path={"number": 1})
        ],
        ("DELETE", f"{controller}/plans/{{number}}"): [call(path={"number": 2})],
        ("GET", f"{base}/timetables"): [
            call(),
            call("behind", query={"behind": "true"}),
            call("Talant", expect=200),
        ],
        ("GET", f"{controller}/timetable"): [call()],
        ("PUT", f"{controller}/timetable"): [
            call(json={"entries": [{"days": [1], "start": "00:00", "plan": 1}]})
        ],
        ("GET", f"{base}/manual-plans"): [call(), call("Talant", expect=200)],
        ("POST", f"{controller}/manual-plan"): [call(json=manual_body())],
        ("POST", f"{base}/manual-plans/{{selection_id}}/end"): [call(query={"reason": "done"})],
        ("GET", f"{base}/corridors"): [call(), call("Talant", expect=200)],
        ("POST", f"{base}/corridors"): [
            aimed("Chenôve controllers", "asset_id", second, lambda v: corridor_body(v, f"{v}x"))
        ],
        ("GET", corridor): [call()],
        ("PUT", corridor): [call(json={**corridor_body(*t.chenove_controllers), "version": 1})],
        ("DELETE", corridor): [call()],
        ("POST", f"{corridor}/apply"): [call(json={"reason": "soirée"})],
    }


def traffic_camera_calls(call: Any) -> dict[tuple[str, str], list[Any]]:
    """The traffic writes of the camera walk (test_camera_visibility.py): each aimed at
    the camera as a controller (through the path), which must not be found as one."""
    controller = f"{API}/traffic/controllers/{{controller_id}}"
    table = {"entries": [{"days": [1], "start": "00:00", "plan": 1}]}
    return {
        ("PUT", f"{controller}/config"): [call(json=CONFIG)],
        ("POST", f"{controller}/plans/check"): [call(json=plan(1, 40, 30))],
        ("PUT", f"{controller}/plans/{{number}}"): [call(json=plan(1, 40, 30))],
        ("PUT", f"{controller}/timetable"): [call(json=table)],
        ("POST", f"{controller}/manual-plan"): [call(json=manual_body())],
    }
