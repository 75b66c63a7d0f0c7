"""Cameras exist only for the people the law designates (CSI L252-2), proven by walking
every endpoint.

A Talant camera has everything a camera can have: a position, telemetry, a device
credential and refused logins, a command and a group command with their reasons, an alarm,
work orders, a place in a group beside a light. A viewer, an operator (granted every
domain, video included), a lighting supervisor and two video agents - one never
habilitated, one whose habilitation has ended - each call every route of the API aimed at
the camera's things, then read every listing, map and export: nothing of the camera may
show, and aimed at by id it must answer exactly like something that does not exist. A
habilitated video agent and an auditor, on the other hand, do see it (or an API that hid
everything from everybody would pass).

Like the commune-scope walk, the walk is driven by ``app.routes``: a route the tables
below do not cover fails :func:`test_the_camera_walk_covers_every_route`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from beffroi.alarms import raising
from beffroi.alarms.events import AlarmChanged
from beffroi.alarms.lifecycle import AlarmSource
from beffroi.alarms.signals import AlarmSignal
from beffroi.catalogue import Domain, Severity
from beffroi.commands.events import CommandChanged
from beffroi.commands.lifecycle import CommandState, Verification
from beffroi.console.board import LiveBoard
from beffroi.console.events import AssetStateChanged
from beffroi.console.states import MapState
from beffroi.console.stream import Viewer
from beffroi.core.context import Context, Runtime
from beffroi.core.events import DomainEvent
from beffroi.core.principal import Principal, Role
from beffroi.core.time import utcnow
from beffroi.devices.credentials import issue_credentials
from beffroi.devices.topics import Channel
from beffroi.interventions.events import InterventionChanged
from beffroi.telemetry.events import TelemetryUpdated
from beffroi.video.clearance import authenticate_with_clearance
from beffroi.web.app import create_app
from tests.integration.plans_walk import PLANS_NOT_CAMERA, plans_camera_calls
from tests.integration.test_commune_scope import (
    API,
    EXPLICIT,
    GHOSTS,
    PNG,
    PNG_HEADERS,
    REFUSED,
    SAFE_METHODS,
    Call,
    Markers,
    Twin,
    api_routes,
    fill,
    leaks,
    normalised,
    ok,
    path_params,
    report,
    send,
    work_body,
)
from tests.integration.traffic_walk import corridor_body, traffic_camera_calls
from tests.support import Person, habilitate, make_person

TALANT = "talant"
CAMERA = "CAM-CAMWALK-01"
LIGHT = "SL-CAMWALK-01"
# Where the camera is: its position must never show either (as numbers in any answer).
CAMERA_LON, CAMERA_LAT = 5.01234, 47.34567
CAMERA_NAME = "Caméra parvis camwalk"
CAMERA_REASON = "motif-camwalk-rixe"
BATCH_REASON = "motif-camwalk-lot"
# The path parameters that name a camera's thing: each is tried with the camera's and
# compared with a ghost's (tests.integration.test_commune_scope.GHOSTS).
CAMERA_PARAMS = frozenset(
    {
        "asset_id",
        "device_id",
        "command_id",
        "alarm_id",
        "intervention_id",
        "camera_id",
        "entity_id",
        "controller_id",
    }
)
WHY = {"reason": "walk"}


@dataclass(frozen=True, slots=True)
class Cam:
    """What setup made: the camera's things and the controls beside them."""

    command: str
    alarm: int
    light_alarm: int
    work: int  # on the camera
    linked_work: int  # on the light, with the camera linked
    light_work: int  # the control
    group: int  # the light and the camera
    team: int


def camera_values(c: Cam) -> dict[str, list[str | int]]:
    """Each camera path parameter's values: the camera's things."""
    return {
        "asset_id": [CAMERA],
        "device_id": [CAMERA],
        "command_id": [c.command],
        "alarm_id": [c.alarm],
        "intervention_id": [c.work, c.linked_work],
        "camera_id": [CAMERA],
        # The NGSI-LD facade shows every asset as a Device.
        "entity_id": [f"urn:ngsi-ld:Device:{CAMERA}"],
        # Traffic routes name a controller: the camera is none, and is not found as one.
        "controller_id": [CAMERA],
    }


def pins(c: Cam) -> dict[str, str | int]:
    """Values for the other path parameters (they name no camera): a real thing where one
    holds a camera (the mixed group), else a ghost."""
    return {
        "group_id": c.group,
        "team_id": c.team,
        "photo_id": GHOSTS["photo_id"],
        "user_id": GHOSTS["user_id"],
        "username": GHOSTS["username"],
        "token_id": GHOSTS["token_id"],
        "rule_id": GHOSTS["rule_id"],
        "route_id": GHOSTS["route_id"],
        "policy_id": GHOSTS["policy_id"],
        "program_id": GHOSTS["program_id"],
        "calendar_id": GHOSTS["calendar_id"],
        "assignment_id": GHOSTS["assignment_id"],
        "override_id": GHOSTS["override_id"],
        "ref": TALANT,
        "key": "camera",  # the catalogue describes the type, never a camera
        "path": f"assets/{CAMERA}",  # the console's page, never data
        # Camera commands are sent in view sessions, never in batches: a ghost batch.
        "batch_id": "ghost-batch",
        "report_id": 987_654,
        "approach_id": 987_654,  # approaches are of controllers only
        "situation_id": 987_654,
        "entry_id": 987_654,  # the log's entries are read in the list (GET opslog/entries)
        # A plan's command step is checked when written (POST plans, in camera_plan).
        "plan_id": 987_654,
        "run_id": 987_654,
        "position": 0,
        "item": 0,
        "salting_route_id": 987_654,  # a salting route is a line, never an asset
        "number": 1,
        "selection_id": GHOSTS["selection_id"],
        "corridor_id": GHOSTS["corridor_id"],
        "habilitation_id": 987_654,
        "session_id": 987_654,
        "hold_id": 987_654,
        "key_id": 987_654,
        "preset": 1,
        "dataset_id": "ghost-0404",  # no dataset reads cameras (opendata/privacy.py)
        "format": "csv",
        "service_code": "streetlight-out",
        "service_request_id": "ghost-ticket-0404",
    }


def aimed(label: str, name: str, value: str | int, build: Any, *, query: bool = False) -> Call:
    """A call naming ``value`` in its body (or query), twinned with a ghost's."""
    ghost = GHOSTS[name]
    if query:
        return Call(label, query=build(value), twin=Twin(value, ghost, query=build(ghost)))
    return Call(label, json=build(value), twin=Twin(value, ghost, json=build(ghost)))


def log_naming(field: str) -> Any:
    """An operations log entry in Talant naming one thing in ``field``."""

    def build(value: str | int) -> dict[str, Any]:
        entry = {"desk": "video", "category": "incident", "text": "walk", "commune": TALANT}
        return {**entry, field: [value]}

    return build


def camera_body(asset_id: str = CAMERA, asset_type: str = "camera") -> dict[str, Any]:
    """A camera to register."""
    return {
        "id": asset_id,
        "type": asset_type,
        "name": CAMERA_NAME,
        "commune": TALANT,
        "location": {"type": "Point", "coordinates": [CAMERA_LON, CAMERA_LAT]},
        "attributes": {"kind": "ptz", "presets": 8} if asset_type == "camera" else {},
    }


def camera_plan(c: Cam) -> dict[tuple[str, str], list[Call]]:
    """The calls a route needs beyond the plain ones (:func:`plan_for` makes those): a
    body, a query, or a camera named in the body or query rather than the path."""
    ends = (datetime.now(UTC) + timedelta(hours=2)).isoformat()

    def alarm_ids(value: str | int) -> dict[str, Any]:
        return {"alarm_ids": [value]}

    light_work = {"intervention_id": c.light_work}
    today = {"day": datetime.now(UTC).date().isoformat(), "desk": "video"}
    return {
        # --- the operations log: an entry names a camera only for whoever sees cameras ---
        ("GET", f"{API}/opslog/entries"): [
            Call(),
            aimed("by camera", "asset_id", CAMERA, lambda v: {"asset_id": v}, query=True),
            aimed("by alarm", "alarm_id", c.alarm, lambda v: {"alarm_id": str(v)}, query=True),
        ],
        ("GET", f"{API}/opslog/daily"): [Call(query=today)],
        ("POST", f"{API}/opslog/entries"): [
            aimed("naming the camera", "asset_id", CAMERA, log_naming("asset_ids")),
            aimed("its alarm", "alarm_id", c.alarm, log_naming("alarm_ids")),
            aimed("its command", "command_id", c.command, log_naming("command_ids")),
            aimed("its work order", "intervention_id", c.work, log_naming("intervention_ids")),
            aimed("a linked one", "intervention_id", c.linked_work, log_naming("intervention_ids")),
        ],
        ("POST", f"{API}/opslog/entries/{{entry_id}}/amendments"): [Call(json={"text": "walk"})],
        # --- the registry ---
        ("GET", f"{API}/assets"): [
            Call(query={"limit": "1000"}),
            Call("cameras", query={"type": "camera"}),
            Call("by name", query={"q": "camwalk"}),
            aimed("by id", "asset_id", CAMERA, lambda v: {"q": v}, query=True),
            Call("geojson", query={"format": "geojson", "limit": "1000"}),
        ],
        ("GET", f"{API}/assets/export"): [Call(), Call("csv", query={"format": "csv"})],
        ("POST", f"{API}/assets"): [
            Call("a camera", json=camera_body("CAM-CAMWALK-NEW")),
            Call("over the camera's id", json=camera_body(CAMERA, "streetlight")),
        ],
        ("POST", f"{API}/assets/import"): [
            Call(
                "a camera row",
                content=(
                    "id,type,name,commune,lon,lat,attr.kind\n"
                    f"CAM-CAMWALK-IMP,camera,cam,{TALANT},{CAMERA_LON},{CAMERA_LAT},ptz\n"
                ),
                headers={"Content-Type": "text/csv"},
            )
        ],
        ("PATCH", f"{API}/assets/{{asset_id}}"): [Call(json={"name": "x"})],
        ("POST", f"{API}/assets/{{asset_id}}/decommission"): [Call(json=WHY)],
        ("GET", f"{API}/assets/{{asset_id}}/telemetry"): [Call(query={"key": "preset"})],
        ("GET", f"{API}/assets/{{asset_id}}/telemetry/aggregate"): [Call(query={"key": "preset"})],
        ("GET", f"{API}/telemetry/latest"): [
            Call(),
            Call("cameras", query={"type": "camera"}),
        ],
        ("GET", f"{API}/ingest/rejections"): [
            Call(),
            aimed("one device", "asset_id", CAMERA, lambda v: {"asset_id": v}, query=True),
        ],
        ("GET", f"{API}/ingest/login-failures"): [
            Call(),
            aimed("one device", "asset_id", CAMERA, lambda v: {"asset_id": v}, query=True),
        ],
        ("POST", f"{API}/devices/{{device_id}}/telemetry"): [Call(json={"values": {"preset": 1}})],
        ("POST", f"{API}/devices/{{device_id}}/events"): [
            Call(json={"code": "tamper", "active": False})
        ],
        ("POST", f"{API}/groups"): [
            aimed(
                "with the camera",
                "asset_id",
                CAMERA,
                lambda v: {"name": "walk-cam", "commune": TALANT, "kind": "list", "asset_ids": [v]},
            )
        ],
        ("PATCH", f"{API}/groups/{{group_id}}"): [
            aimed("add the camera", "asset_id", CAMERA, lambda v: {"add": [v]}),
            # Removing what one does not see leaves it (checked after the walk).
            Call("remove the camera", json={"remove": [CAMERA]}, may_succeed=True),
        ],
        # --- commands ---
        ("GET", f"{API}/commands"): [
            Call(query={"limit": "200"}),
            aimed("of the camera", "asset_id", CAMERA, lambda v: {"asset_id": v}, query=True),
        ],
        ("POST", f"{API}/commands"): [
            aimed(
                "to the camera",
                "asset_id",
                CAMERA,
                lambda v: {
                    "asset_id": v,
                    "name": "goto_preset",
                    "params": {"preset": 2},
                    "reason": "walk",
                },
            )
        ],
        ("POST", f"{API}/command-batches"): [
            aimed(
                "the camera by id",
                "asset_id",
                CAMERA,
                lambda v: {
                    "type": "camera",
                    "name": "goto_preset",
                    "params": {"preset": 2},
                    "target": {"kind": "ids", "asset_ids": [v]},
                    "reason": "walk",
                },
            ),
            Call(
                "the mixed group's cameras",
                json={
                    "type": "camera",
                    "name": "recording",
                    "params": {"on": False},
                    "target": {"kind": "group", "group_id": c.group},
                    "reason": "walk",
                },
            ),
        ],
        **{
            ("POST", f"{API}/commands/{{command_id}}/{verb}"): [Call(json=WHY)]
            for verb in ("approve", "deny", "cancel")
        },
        **{
            ("POST", f"{API}/command-batches/{{batch_id}}/{verb}"): [Call(json=WHY)]
            for verb in ("approve", "deny", "cancel", "retry")
        },
        # --- alarms and notifications ---
        ("GET", f"{API}/alarms"): [
            Call(query={"state": "active_unacknowledged,active_acknowledged", "limit": "1000"}),
            aimed("of the camera", "asset_id", CAMERA, lambda v: {"asset_id": v}, query=True),
            Call("video domain", query={"domain": "video"}),
        ],
        ("POST", f"{API}/alarms/{{alarm_id}}/acknowledge"): [Call(json={"text": "walk"})],
        ("POST", f"{API}/alarms/{{alarm_id}}/comments"): [Call(json={"text": "walk"})],
        ("POST", f"{API}/alarms/{{alarm_id}}/assign"): [Call(json={"user": None})],
        ("POST", f"{API}/alarms/{{alarm_id}}/shelve"): [Call(json={"minutes": 10, **WHY})],
        ("POST", f"{API}/alarms/{{alarm_id}}/clear"): [Call(json=WHY)],
        ("GET", f"{API}/notification-deliveries"): [
            Call(query={"limit": "1000"}),
            aimed("of the alarm", "alarm_id", c.alarm, lambda v: {"alarm_id": v}, query=True),
        ],
        # Camera alarms go only to routes naming the video domain, named by who sees it.
        ("POST", f"{API}/notification-routes"): [
            Call(
                "the video domain",
                json={
                    "name": "nr-camwalk",
                    "channel": "webhook",
                    "target": "http://127.0.0.1:9/camwalk",
                    "domains": ["video"],
                },
            )
        ],
        ("GET", f"{API}/kpis"): [
            Call(query={"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z", "by": by})
            for by in ("commune", "team", "category")
        ],
        # --- interventions ---
        ("GET", f"{API}/interventions"): [
            Call(query={"limit": "1000"}),
            aimed("of the camera", "asset_id", CAMERA, lambda v: {"asset_id": v}, query=True),
        ],
        ("POST", f"{API}/interventions"): [
            aimed("on the camera", "asset_id", CAMERA, lambda v: work_body(asset_id=v)),
            aimed(
                "linking the camera",
                "asset_id",
                CAMERA,
                lambda v: work_body(asset_id=LIGHT, asset_ids=[v]),
            ),
            aimed("its alarm", "alarm_id", c.alarm, lambda v: work_body(**alarm_ids(v))),
        ],
        ("PATCH", f"{API}/interventions/{{intervention_id}}"): [Call(json={"title": "x"})],
        ("POST", f"{API}/interventions/{{intervention_id}}/assign"): [
            Call(json={"team_id": c.team})
        ],
        ("POST", f"{API}/interventions/{{intervention_id}}/status"): [
            Call(json={"status": "in_progress"})
        ],
        ("POST", f"{API}/interventions/{{intervention_id}}/notes"): [Call(json={"text": "walk"})],
        ("POST", f"{API}/interventions/{{intervention_id}}/photos"): [
            Call(content=PNG, headers=PNG_HEADERS)
        ],
        ("POST", f"{API}/interventions/{{intervention_id}}/links"): [
            Call(json={"asset_ids": [LIGHT]}),
            replace(
                aimed("the camera", "asset_id", CAMERA, lambda v: {"asset_ids": [v]}),
                path=light_work,
            ),
            replace(
                aimed("its alarm", "alarm_id", c.alarm, alarm_ids),
                path=light_work,
            ),
        ],
        # --- lighting: the camera is no light, and is not found as one ---
        ("POST", f"{API}/lighting/overrides"): [
            aimed(
                "the camera",
                "asset_id",
                CAMERA,
                lambda v: {
                    "level_pct": 100,
                    "ends_at": ends,
                    "reason": "walk",
                    "target": "assets",
                    "asset_ids": [v],
                },
            )
        ],
        ("POST", f"{API}/lighting/assignments"): [
            aimed(
                "the camera as a cabinet",
                "asset_id",
                CAMERA,
                lambda v: {"calendar_id": 1, "target": "cabinet", "cabinet_id": v},
            )
        ],
        # --- traffic: the camera is no controller, and is not found as one ---
        **traffic_camera_calls(Call),
        **plans_camera_calls(Call, aimed, CAMERA),
        ("POST", f"{API}/traffic/corridors"): [
            aimed("the camera", "asset_id", CAMERA, lambda v: corridor_body(v, LIGHT))
        ],
    }


# Routes that take no camera, and why: they are not called (a write there would change
# things that are not the walk's business).
NOT_CAMERA: dict[tuple[str, str], str] = {
    **{
        (method, f"{API}/video/{path}"): "the video area's acts: refused without video:watch "
        "or video:manage and a habilitation covering the camera, and registered "
        "(test_video_sessions.py, test_video_register.py)"
        for method, path in (
            ("POST", "habilitations"),
            ("POST", "habilitations/{habilitation_id}/revoke"),
            ("POST", "sessions"),
            ("POST", "sessions/{session_id}/end"),
            ("POST", "sessions/{session_id}/commands"),
            ("POST", "extractions"),
            ("POST", "transmissions"),
            ("POST", "holds"),
            ("POST", "holds/{hold_id}/approve"),
            ("POST", "holds/{hold_id}/refuse"),
            ("POST", "holds/{hold_id}/lift"),
            ("PUT", "cameras/{camera_id}/retention"),
            ("PUT", "cameras/{camera_id}/masks/{preset}"),
        )
    },
    **PLANS_NOT_CAMERA,
    ("POST", f"{API}/opendata/keys"): "open data keys name a client, never an asset",
    ("DELETE", f"{API}/opendata/keys/{{key_id}}"): "open data keys name a client",
    ("POST", f"{API}/opendata/datasets/{{dataset_id}}/refresh"): "no dataset reads cameras "
    "(the privacy rule refuses one at load: test_opendata_privacy.py)",
    ("POST", f"{API}/reports"): "a citizen report names a service and a place, never an asset",
    ("POST", f"{API}/reports/{{report_id}}/notes"): "a public note on a citizen report",
    ("POST", "/open311/v2/requests.json"): "a citizen report names a service and a place",
    ("POST", "/open311/v2/requests.xml"): "a citizen report names a service and a place",
    ("DELETE", f"{API}/groups/{{group_id}}"): "deletes a group, never its members",
    **{
        (method, f"{API}/{path}"): "a salting route is a line in communes, never an asset "
        "(its completion reads salting trucks' tracks only: test_vehicles.py)"
        for method, path in (
            ("POST", "salting-routes"),
            ("PATCH", "salting-routes/{salting_route_id}"),
            ("DELETE", "salting-routes/{salting_route_id}"),
        )
    },
    **{
        (method, f"{API}/roads/{path}"): "a road situation is a geometry and a period; its "
        "signs are read by type (message_sign), where a camera is unknown like any other "
        "asset that is no sign (test_roads.py)"
        for method, path in (
            ("POST", "situations"),
            ("PATCH", "situations/{situation_id}"),
            ("POST", "situations/{situation_id}/end"),
            ("POST", "situations/{situation_id}/cancel"),
            ("POST", "situations/{situation_id}/signs/display"),
            ("POST", "situations/{situation_id}/signs/clear"),
        )
    },
    **{
        (method, f"{API}/traffic/{path}"): "a corridor or a plan imposed by hand names only "
        "controllers, checked on creation (walked: POST traffic/corridors, manual-plan)"
        for method, path in (
            ("PUT", "corridors/{corridor_id}"),
            ("DELETE", "corridors/{corridor_id}"),
            ("POST", "corridors/{corridor_id}/apply"),
            ("POST", "manual-plans/{selection_id}/end"),
        )
    },
    ("POST", f"{API}/communes"): "communes",
    ("PUT", f"{API}/communes"): "communes",
    **{
        (method, f"{API}/{path}"): "people, teams and tokens"
        for method, path in (
            ("POST", "users"),
            ("PATCH", "users/{username}"),
            ("POST", "tokens"),
            ("DELETE", "tokens/{token_id}"),
            ("POST", "teams"),
            ("PATCH", "teams/{team_id}"),
            ("DELETE", "teams/{team_id}"),
            ("POST", "teams/{team_id}/members"),
            ("DELETE", "teams/{team_id}/members/{user_id}"),
        )
    },
    **{
        (method, f"{API}/{path}"): "a rule, route or policy names types and domains, never "
        "a camera; the alarms and deliveries they make are hidden with the camera"
        for method, path in (
            ("POST", "rules"),
            ("PUT", "rules/{rule_id}"),
            ("DELETE", "rules/{rule_id}"),
            ("POST", "rules/{rule_id}/enable"),
            ("PATCH", "notification-routes/{route_id}"),
            ("DELETE", "notification-routes/{route_id}"),
            ("POST", "notification-routes/{route_id}/test"),
            ("POST", "intervention-policies"),
            ("PATCH", "intervention-policies/{policy_id}"),
            ("DELETE", "intervention-policies/{policy_id}"),
        )
    },
    **{
        (method, f"{API}/lighting/{path}"): "lighting programs, calendars and decisions on "
        "light overrides: no asset named (the override and assignment targets are walked)"
        for method, path in (
            ("POST", "programs"),
            ("PATCH", "programs/{program_id}"),
            ("DELETE", "programs/{program_id}"),
            ("POST", "calendars"),
            ("PATCH", "calendars/{calendar_id}"),
            ("DELETE", "calendars/{calendar_id}"),
            ("PATCH", "assignments/{assignment_id}"),
            ("DELETE", "assignments/{assignment_id}"),
            ("POST", "overrides/{override_id}/approve"),
            ("POST", "overrides/{override_id}/refuse"),
            ("POST", "overrides/{override_id}/cancel"),
            ("POST", "schedules/compile"),
            ("POST", "preview"),
        )
    },
    **{
        (method, f"{API}/mobility/{path}"): "bus priority approaches: only a traffic "
        "controller with bus priority takes one (a camera id is not found for whoever may not "
        "see cameras, and is no controller for the others: test_mobility_api.py)"
        for method, path in (
            ("POST", "approaches"),
            ("PATCH", "approaches/{approach_id}"),
            ("DELETE", "approaches/{approach_id}"),
        )
    },
}


def plan_for(app: FastAPI, c: Cam) -> tuple[dict[tuple[str, str], list[Call]], list[str]]:
    """The calls of every route, and why some route is not covered (empty when all are).

    A read, and a write whose path names a camera's thing without a body, is called as it
    is; anything else needs its calls in :func:`camera_plan` or a reason in
    :data:`NOT_CAMERA`."""
    routes = api_routes(app)
    explicit = camera_plan(c)
    plan: dict[tuple[str, str], list[Call]] = {}
    problems = [
        f"{m} {p}: in camera_plan() but not in the app" for m, p in explicit.keys() - routes.keys()
    ]
    problems += [
        f"{m} {p}: in NOT_CAMERA but not in the app" for m, p in NOT_CAMERA.keys() - routes.keys()
    ]
    known = {**pins(c), **camera_values(c)}
    for (method, path), takes_body in sorted(routes.items()):
        key = (method, path)
        if key in EXPLICIT or key in NOT_CAMERA:
            continue
        names = path_params(path)
        problems += [
            f"{method} {path}: no value for {n!r} in pins()" for n in names if n not in known
        ]
        if key in explicit:
            plan[key] = explicit[key]
        elif method in SAFE_METHODS or (not takes_body and set(names) & CAMERA_PARAMS):
            plan[key] = [Call()]
        else:
            problems.append(
                f"{method} {path}: say how it could name a camera (camera_plan) or why it "
                "cannot (NOT_CAMERA)"
            )
        if takes_body and key in plan and not any(call.has_body for call in plan[key]):
            problems.append(f"{method} {path}: takes a body but no call sends one")
    return plan, problems


def test_the_camera_walk_covers_every_route() -> None:
    """Fails as soon as a route is added without saying how it could show a camera."""
    dummy = Cam("c", 1, 2, 3, 4, 5, 6, 7)
    _, problems = plan_for(create_app(), dummy)
    assert not problems, "\n".join(problems)


# --- setup --------------------------------------------------------------------------------


async def build(client: httpx.AsyncClient, system: Context, admin: Person, agent: Person) -> Cam:
    """The camera's things, made the way people make them (the command by a habilitated
    agent), and the light beside it."""
    h = admin.headers
    ok(await client.post(f"{API}/assets", json=camera_body(), headers=h), 201)
    light = {**camera_body(LIGHT, "streetlight"), "name": "Point lumineux témoin"}
    light["location"] = {"type": "Point", "coordinates": [5.005, 47.337]}
    light["attributes"] = {"lamp_type": "LED", "rated_power_w": 40}
    ok(await client.post(f"{API}/assets", json=light, headers=h), 201)
    runtime = system.runtime
    await report(runtime, CAMERA, Channel.TELEMETRY, {"values": {"preset": 3, "recording": True}})
    await report(runtime, CAMERA, Channel.STATUS, {"online": True, "firmware": "fw-camwalk"})
    await report(runtime, LIGHT, Channel.TELEMETRY, {"values": {"level_pct": 70}})
    await issue_credentials(system, [CAMERA, LIGHT])
    now = utcnow()
    async with system.db.write() as session:
        for username in (CAMERA, LIGHT):
            await session.execute(
                text(
                    "INSERT INTO device_login_failures (username, reason, source, commune_code,"
                    " client_id, peer, first_at, last_at, count) VALUES (:u, 'bad_secret',"
                    " 'mqtt', 'talant', :u, '127.0.0.1', :t, :t, 1)"
                ),
                {"u": username, "t": now},
            )
    # Cameras are steered within a view session (docs/video.md): its reason is the command's.
    reasons: list[str] = (await client.get(f"{API}/video/reasons", headers=agent.headers)).json()
    opened = await client.post(
        f"{API}/video/sessions",
        json={"cameras": [CAMERA], "reason": reasons[0], "reason_text": CAMERA_REASON},
        headers=agent.headers,
    )
    session_id = ok(opened, 201)["id"]
    steer = {"camera_id": CAMERA, "name": "goto_preset", "params": {"preset": 3}}
    sent = await client.post(
        f"{API}/video/sessions/{session_id}/commands", json=steer, headers=agent.headers
    )
    command = str(ok(sent, 201)["id"])
    signals = [
        AlarmSignal(CAMERA, "tamper", True, now, AlarmSource.DEVICE),
        AlarmSignal(LIGHT, "lampFailure", True, now, AlarmSource.DEVICE),
    ]
    async with system.db.write() as session:
        await raising.apply(session, signals, now)
    async with system.db.read() as session:
        rows = (await session.execute(text("SELECT asset_id, id FROM alarms"))).all()
    alarms = {str(asset): int(alarm_id) for asset, alarm_id in rows}

    async def create(what: str, data: Mapping[str, Any]) -> int:
        return int(ok(await client.post(f"{API}/{what}", json=data, headers=h), 201)["id"])

    team = await create(
        "teams", {"name": "eq-camwalk", "categories": ["lighting"], "communes": [TALANT]}
    )
    group = await create(
        "groups",
        {"name": "grp-camwalk", "commune": TALANT, "kind": "list", "asset_ids": [LIGHT, CAMERA]},
    )
    cam = Cam(
        command=command,
        alarm=alarms[CAMERA],
        light_alarm=alarms[LIGHT],
        work=await create(
            "interventions",
            work_body(title="it-camwalk-objectif", asset_id=CAMERA, alarm_ids=[alarms[CAMERA]]),
        ),
        linked_work=await create(
            "interventions", work_body(title="it-camwalk-lien", asset_id=LIGHT, asset_ids=[CAMERA])
        ),
        light_work=await create(
            "interventions",
            work_body(title="it-camwalk-lampe", asset_id=LIGHT, alarm_ids=[alarms[LIGHT]]),
        ),
        group=group,
        team=team,
    )
    # An operations log entry naming the camera, its alarm, command and work order beside
    # the light's: whoever does not see cameras reads it with the light's only.
    named = {
        "asset_ids": [CAMERA, LIGHT],
        "alarm_ids": [cam.alarm],
        "command_ids": [command],
        "intervention_ids": [cam.work, cam.light_work],
    }
    entry = {"desk": "video", "category": "incident", "text": "vu", "commune": TALANT}
    await create("opslog/entries", {**entry, **named})
    return cam


def markers_of(c: Cam) -> Markers:
    """Strings that betray the camera: its id, name, position, firmware, command, batch,
    reasons and work orders' titles."""
    groups: list[tuple[str, ...]] = [
        (CAMERA.lower(),),
        ("parvis camwalk",),
        (str(CAMERA_LON),),
        (str(CAMERA_LAT),),
        ("fw-camwalk",),
        (c.command,),
        (CAMERA_REASON,),
        ("it-camwalk-objectif",),
        ("it-camwalk-lien",),
    ]
    return Markers(tuple(groups))


# --- the walk -----------------------------------------------------------------------------


async def walk(
    client: httpx.AsyncClient,
    plan: Mapping[tuple[str, str], Sequence[Call]],
    c: Cam,
    markers: Markers,
    headers: Mapping[str, str],
) -> tuple[list[str], int]:
    """Every call of the plan as one person; returns what went wrong and how many requests
    were sent. Reads go first, so that a write that wrongly succeeded cannot hide."""
    problems: list[str] = []
    sent = 0
    values, pinned = camera_values(c), pins(c)
    order = sorted(plan, key=lambda op: (op[0] not in SAFE_METHODS, op[1], op[0]))
    for method, path in order:
        names = path_params(path)
        for call in plan[(method, path)]:
            given = {n: pinned[n] for n in names if n not in CAMERA_PARAMS}
            given.update(call.path or {})
            free = [n for n in names if n not in given]
            tries: list[tuple[dict[str, str | int], dict[str, str | int] | None]] = []
            if not free:
                tries.append((given, None))
            for name in free:
                for value in values[name]:
                    tries.append(({**given, name: value}, {**given, name: GHOSTS[name]}))
            for real, ghost in tries:
                response = await send(client, method, fill(path, real), call, headers)
                sent += 1
                where = f"{method} {response.request.url} [{call.label or 'plain'}]"
                status = response.status_code
                if status >= 500:
                    problems.append(f"{where}: server error {status}: {response.text[:300]}")
                if leaked := leaks(markers, response):
                    problems.append(f"{where}: shows {sorted(leaked)}: {response.text[:300]}")
                if method not in SAFE_METHODS and not call.may_write and status not in REFUSED:
                    problems.append(f"{where}: a write aimed at the camera answered {status}")
                twins: list[tuple[str | int, str | int, str, Call]] = []
                if ghost is not None:
                    (name,) = (n for n in ghost if ghost[n] != real[n])
                    twins.append((real[name], ghost[name], fill(path, ghost), call))
                if call.twin is not None:
                    t = call.twin
                    twin_call = replace(call, json=t.json, query=t.query, twin=None)
                    twins.append((t.value, t.ghost, fill(path, real), twin_call))
                for value, ghost_value, url, twin_call in twins:
                    other = await send(client, method, url, twin_call, headers)
                    sent += 1
                    if normalised(response, value) != normalised(other, ghost_value):
                        problems.append(
                            f"{where}: answers unlike a missing one ({status}: "
                            f"{response.text[:200]} / {other.status_code}: {other.text[:200]})"
                        )
    return problems, sent


async def get_json(
    client: httpx.AsyncClient, url: str, headers: Mapping[str, str], **query: str
) -> Any:
    """The JSON of a read that must succeed, or ``None`` where the role may not read."""
    response = await client.get(f"{API}/{url}", params=query, headers=headers)
    if response.status_code == 403:
        return None
    assert response.status_code == 200, f"{url}: {response.status_code} {response.text}"
    return response.json()


async def seen(
    client: httpx.AsyncClient, headers: Mapping[str, str], c: Cam, *, work: bool
) -> dict[str, bool]:
    """Whether each of the camera's things shows to the holder of ``headers`` (by listing,
    not by id); ``work``: the person reads interventions."""
    assets = await get_json(client, "assets", headers, limit="1000")
    rows = (await get_json(client, "map", headers))["rows"]
    members = await get_json(client, f"groups/{c.group}/members", headers)
    commands = await get_json(client, "commands", headers, limit="200") or {"items": []}
    alarms = await get_json(client, "alarms", headers, limit="1000")
    out = {
        "asset": CAMERA in {a["id"] for a in assets["items"]},
        "map": CAMERA in {r[0] for r in rows},
        "member": CAMERA in str(members),
        "command": c.command in {x["id"] for x in commands["items"]},
        "alarm": c.alarm in {a["id"] for a in alarms["items"]},
    }
    if work:
        found = await get_json(client, "interventions", headers, limit="1000")
        ids = {i["id"] for i in found["items"]}
        out["work"] = c.work in ids and c.linked_work in ids
    return out


async def test_only_designated_agents_see_cameras(
    runtime: Runtime, system: Context, admin: Person
) -> None:
    app = create_app(runtime)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        agent = await make_person(system, "agent-habilite", [Role.VIDEO_AGENT])
        await habilitate(runtime, "agent-habilite", cameras=(CAMERA,))
        c = await build(client, system, admin, agent)
        plan, problems = plan_for(app, c)
        assert not problems, "\n".join(problems)
        markers = markers_of(c)
        # The checks can see a leak: the administrator's listing shows the camera.
        listing = await client.get(f"{API}/assets", params={"limit": "1000"}, headers=admin.headers)
        assert CAMERA.lower() in leaks(markers, listing)

        lapsed = await make_person(system, "agent-echu", [Role.VIDEO_AGENT])
        await habilitate(runtime, "agent-echu", start=timedelta(days=-60), end=timedelta(days=-1))
        hidden_from = {
            "viewer": await make_person(system, "camwalk-viewer", [Role.VIEWER]),
            "operator": await make_person(
                system, "camwalk-operator", [Role.OPERATOR], domains=list(Domain)
            ),
            # The supervisor of public lighting: the role, granted the lighting domain.
            "lighting supervisor": await make_person(
                system, "camwalk-lighting", [Role.SUPERVISOR], domains=[Domain.LIGHTING]
            ),
            "video agent without habilitation": await make_person(
                system, "agent-sans", [Role.VIDEO_AGENT]
            ),
            "video agent whose habilitation ended": lapsed,
        }
        sent = 0
        for who, person in hidden_from.items():
            found, count = await walk(client, plan, c, markers, person.headers)
            problems += [f"{who}: {p}" for p in found]
            sent += count
            shown = await seen(
                client, person.headers, c, work=who in {"operator", "lighting supervisor"}
            )
            if any(shown.values()):
                problems.append(f"{who} sees {sorted(k for k, v in shown.items() if v)}")
            if not (await get_json(client, f"groups/{c.group}/members", person.headers)):
                problems.append(f"{who}: the mixed group's light is missing")

        # The camera is still in its group and its things are as they were.
        members = await get_json(client, f"groups/{c.group}/members", admin.headers)
        assert CAMERA in str(members), members
        auditor = await make_person(system, "camwalk-auditor", [Role.AUDITOR])
        for who, person, work in (("habilitated agent", agent, False), ("auditor", auditor, True)):
            shown = await seen(client, person.headers, c, work=work)
            if not all(shown.values()):
                problems.append(f"{who} misses {sorted(k for k, v in shown.items() if not v)}")
            command = await get_json(client, f"commands/{c.command}", person.headers)
            # The session's reason, and the agent's own words, are the command's.
            if CAMERA_REASON not in str(command.get("reason")):
                problems.append(f"{who}: the command's reason is missing: {command}")
    assert sent > 300, f"the walk sent only {sent} requests"
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


async def test_the_live_stream_hides_camera_events(
    runtime: Runtime, system: Context, admin: Person
) -> None:
    """The stream's rules, on the real board: a camera's events reach only who sees it;
    a habilitation that ends mid-stream is followed at the next check."""
    app = create_app(runtime)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        agent = await make_person(system, "agent-flux", [Role.VIDEO_AGENT])
        await habilitate(runtime, "agent-flux", cameras=(CAMERA,))
        c = await build(client, system, admin, agent)
    viewer = await make_person(system, "flux-viewer", [Role.VIEWER, Role.FIELD_AGENT])
    board = LiveBoard(runtime)
    await board.reload()
    now = utcnow()

    def events(asset_id: str, alarm_id: int, work: int) -> list[DomainEvent]:
        return [
            AssetStateChanged(asset_id, TALANT, MapState.ALARM, Severity.CRITICAL),
            AlarmChanged(
                alarm_id,
                asset_id,
                TALANT,
                "tamper",
                Severity.CRITICAL,
                "active_unacknowledged",
                "raised",
                now,
            ),
            CommandChanged(
                "c" * 32,
                asset_id,
                None,
                "goto_preset",
                CommandState.QUEUED,
                Verification.PENDING,
                now,
            ),
            InterventionChanged(work, TALANT, None, "new", "created", now, asset_id),
            TelemetryUpdated(asset_id, now, {"preset": 3}),
        ]

    async def principal_of(person: Person) -> Principal:
        return (
            await authenticate_with_clearance(runtime.db, f"Bearer {person.token}", None)
        ).principal

    for person, sees in ((viewer, False), (agent, True), (admin, True)):
        watcher = Viewer(await principal_of(person), board, set())
        watcher.all_work = True
        watcher.interventions = True
        watcher.watched = {CAMERA, LIGHT}
        camera = [e for e in events(CAMERA, c.alarm, c.work) if watcher.admits(e)]
        light = [e for e in events(LIGHT, c.light_alarm, c.light_work) if watcher.admits(e)]
        assert len(camera) == (len(light) if sees else 0), (person.username, camera)
        assert light, person.username
