"""Commune scope, proven by walking every endpoint.

The security model: commune staff see and act only within their own commune. The proof: a Talant
user holding every role (so that only commune scope stands in the way) calls every route of
the API aimed at Chenôve's things - its assets, their telemetry and devices, groups, users,
tokens, the commune itself - and then reads every listing, map and export. Nothing of
Chenôve may show in any answer, every write aimed at Chenôve must be refused, and Chenôve's
rows in the database must be exactly as they were. The same user must still see Talant, or
an API that answered nothing at all would pass.

The walk is driven by ``app.routes``: a route that the tables below do not cover fails the
test, so a future endpoint cannot slip past it.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

import fastapi.routing
import httpx
import orjson
from fastapi import FastAPI
from fastapi.routing import APIRoute
from PIL import Image
from sqlalchemy import text

from beffroi.alarms import raising
from beffroi.alarms.lifecycle import AlarmSource
from beffroi.alarms.signals import AlarmSignal
from beffroi.assets import importing
from beffroi.assets.schemas import AssetCreate
from beffroi.catalogue import Domain
from beffroi.commands import jobs
from beffroi.core import keyset
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.devices import topics
from beffroi.devices.credentials import issue_credentials
from beffroi.devices.topics import Channel, Topic
from beffroi.http.ratelimit import RateLimiter
from beffroi.lighting import service as lighting_service
from beffroi.mobility import approaches as mobility_approaches
from beffroi.mobility.models import PriorityRequest, TrafficCount
from beffroi.mobility.schemas import ApproachCreate
from beffroi.opendata import keys as opendata_keys
from beffroi.opendata import service as opendata_service
from beffroi.opendata.datasets import DATASETS
from beffroi.reports import intake
from beffroi.reports.checks import Photo, Submission
from beffroi.reports.lifecycle import Channel as ReportChannel
from beffroi.simulator.fleet import generate_fleet
from beffroi.telemetry.decode import Rejection, decode
from beffroi.telemetry.directory import DeviceDirectory
from beffroi.telemetry.store import Batch, TelemetryStore
from beffroi.web.app import create_app
from tests.integration.opendata_world import SECRETS
from tests.integration.opendata_world import build_world as build_opendata_world
from tests.integration.plans_walk import (
    PLANS_SNAPSHOT,
    Pln,
    build_plans,
    plans_plan,
    plans_values,
)
from tests.integration.traffic_walk import Traf, build_traffic, traffic_plan, traffic_values
from tests.integration.vehicles_walk import Veh, build_vehicles, vehicles_plan
from tests.support import PASSWORD, Person, habilitate, make_person

API = "/api/v1"
# Sign-in and sign-out take a password and a cookie rather than a bearer token; the test
# drives them by hand (see session_problems) instead of through the tables.
EXPLICIT = frozenset({("POST", f"{API}/auth/login"), ("POST", f"{API}/auth/logout")})
REFUSED = frozenset({401, 403, 404, 409, 422})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
GEOJSON = "application/geo+json"
TALANT = "talant"
CHENOVE = "chenove"
# Identifiers that exist nowhere: a hidden thing must answer exactly like one of these.
GHOSTS: dict[str, str | int] = {
    "asset_id": "GHOST-0404",
    "device_id": "GHOST-0404",
    "group_id": 987_654,
    "username": "ghost-0404",
    "token_id": 987_654,
    "ref": "ghost-0404",
    # NGSI-LD entity ids are URNs of asset ids.
    "entity_id": "urn:ngsi-ld:Device:GHOST-0404",
    # Command and batch ids are 32 hex digits.
    "command_id": "0" * 28 + "0404",
    "batch_id": "0" * 28 + "b404",
    # Numeric ids of alarms, rules, routes, teams, people, interventions, photos, policies.
    **dict.fromkeys(
        (
            "alarm_id",
            "rule_id",
            "route_id",
            "team_id",
            "user_id",
            "intervention_id",
            "photo_id",
            "policy_id",
            "program_id",
            "calendar_id",
            "assignment_id",
            "override_id",
            "habilitation_id",
            "session_id",
            "hold_id",
            "extraction_id",
            "report_id",
            "key_id",
            "situation_id",
            "entry_id",
            "plan_id",
            "run_id",
        ),
        987_654,
    ),
    "camera_id": "GHOST-0404",
    "dataset_id": "ghost-0404",
    "controller_id": "GHOST-0404",
    "selection_id": 987_654,
    "corridor_id": 987_654,
}
# Around each commune's centre (Talant 5.005/47.337, Chenôve 5.006/47.292).
CHENOVE_BOX = (4.97, 47.26, 5.04, 47.32)
BOTH_COMMUNES_BOX = (4.95, 47.25, 5.06, 47.37)


def box_polygon(box: tuple[float, float, float, float]) -> dict[str, Any]:
    """A GeoJSON Polygon for a (min lon, min lat, max lon, max lat) box."""
    w, s, e, n = box
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


# --- the world the walk runs in ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class World:
    """What setup created: Chenôve's things (the targets) and Talant's (the control)."""

    chenove_assets: tuple[str, ...]
    chenove_cabinet: str
    chenove_light: str
    chenove_api_asset: str
    moved_asset: str
    decommissioned_asset: str
    talant_cabinet: str
    talant_light: str
    foreign_groups: Mapping[str, int]
    talant_list_group: int
    talant_polygon_group: int
    chenove_user: str
    bi_communal_user: str
    talant_colleague: str
    actor: str
    foreign_tokens: Mapping[str, int]
    foreign_token_prefixes: tuple[str, ...]
    talant_device_secret: str
    # Remote commands. Chenôve's equipment beyond lighting, by type.
    chenove_equipment: Mapping[str, str]
    # Chenôve's commands worth aiming at one by one (label: id), and every Chenôve command.
    chenove_commands: Mapping[str, str]
    chenove_command_ids: tuple[str, ...]
    # Batches of Chenôve alone, and batches over Talant and Chenôve (label: id).
    chenove_batches: Mapping[str, str]
    mixed_batches: Mapping[str, str]
    # The controls, made by the administrator: the Talant user must see and act on them.
    talant_commands: Mapping[str, str]
    talant_batches: Mapping[str, str]
    # Alarms, monitoring rules, notifications, teams and interventions.
    watch: Watch
    foreign_people: tuple[str, ...] = ("Lucie Martin", "Jean Dupont")
    # Lighting programs, calendars and assignments (ids made by build_lighting).
    lighting: Lit = field(default_factory=lambda: Lit(1, 2, 3, 4, 5, 6, 7))
    # Video-protection: Chenôve's habilitation, session, hold and extraction.
    video: Vid = field(default_factory=lambda: Vid(1, 2, 3, 4, "t"))
    # Citizen reports (made by build_reports).
    reports: Reps = field(default_factory=lambda: Reps(1, "t" * 16))
    # Bus priority: the approach of Chenôve's controller (made by build_mobility).
    mobility_approach: int = 1
    # An open data API key the administrator handed out (metropolis-wide).
    opendata_key: int = 1
    # Road situations (made by build_roads).
    roads: Rds = field(default_factory=lambda: Rds(1, 2, 3, "t"))
    # Traffic: Chenôve's controllers, a plan imposed by hand, a corridor (build_traffic).
    traffic: Traf = field(default_factory=lambda: Traf(("t1", "t2"), 1, 1))
    # The operations log: Chenôve's entry and Talant's (made by build_opslog).
    opslog: Ops = field(default_factory=lambda: Ops(1, 2))
    # Crisis plans: Chenôve's plan and running run, Talant's run (made by build_plans).
    plans: Pln = field(default_factory=lambda: Pln(1, 2, 3))
    # Vehicles and salting routes (made by build_vehicles).
    vehicles: Veh = field(default_factory=lambda: Veh((1, 2), 3, 4, 5))


@dataclass(frozen=True, slots=True)
class Ops:
    """The operations log: a Chenôve entry naming Chenôve's light, alarm, work order,
    report and command (the target), and a Talant entry (the control)."""

    chenove_entry: int
    talant_entry: int
    markers: tuple[str, ...] = ("mc-che-vitrine",)


@dataclass(frozen=True, slots=True)
class Rds:
    """Road situations: Chenôve's closure (shown on Chenôve's sign), one crossing Talant
    and Chenôve (seen by the Talant user, changed only metropolis-wide, its Chenôve side
    unnamed), and Talant's (the control)."""

    chenove_situation: int
    mixed_situation: int
    talant_situation: int
    chenove_sign: str
    markers: tuple[str, ...] = ("rd-che-fermeture",)


@dataclass(frozen=True, slots=True)
class Vid:
    """Video: the habilitation of a metropolis agent over Chenôve, the session they opened
    on Chenôve's camera, a hold asked on it, an extraction of it; and Talant's camera (the
    control)."""

    chenove_habilitation: int
    chenove_session: int
    chenove_hold: int
    chenove_extraction: int
    talant_camera: str


@dataclass(frozen=True, slots=True)
class Reps:
    """A Chenôve citizen report (taken by phone, with its caller's contact and a photo),
    and the personal data it holds: no Talant user reads it, and no public route shows
    it (:func:`public_problems`)."""

    chenove_report: int
    chenove_ticket: str
    personal: tuple[str, ...] = (
        "Rosalie",
        "Vauchez-Chenove",
        "rosalie.v@example.net",
        "+33 3 80 99 88 77",
    )


@dataclass(frozen=True, slots=True)
class Lit:
    """Lighting: Chenôve's program, calendar and assignment (its cabinet's), the
    metropolis-wide program and calendar (seen by all, changed by no commune user), and
    a Talant calendar (the control)."""

    chenove_program: int
    chenove_calendar: int
    chenove_assignment: int
    metropolis_program: int
    metropolis_calendar: int
    talant_calendar: int
    chenove_override: int


@dataclass(frozen=True, slots=True)
class Watch:
    """Alarms, monitoring rules, notification routes, teams and interventions (label: id).

    Chenôve's are the targets: Chenôve's alone, and those over Talant and Chenôve (a rule,
    a route, a team), which a Talant user may neither see nor change. Talant's are the
    controls, each in the state its control call needs; the metropolis-wide rule and the
    intervention policy are visible to all and changed by no commune user.
    """

    chenove_alarms: Mapping[str, int]
    talant_alarms: Mapping[str, int]
    chenove_rules: Mapping[str, int]
    talant_rules: Mapping[str, int]
    metropolis_rule: int
    chenove_routes: Mapping[str, int]
    talant_routes: Mapping[str, int]
    chenove_teams: Mapping[str, int]
    talant_teams: Mapping[str, int]
    chenove_intervention: int
    chenove_photo: int
    talant_intervention: int
    talant_photo: int
    policy: int
    chenove_user_id: int
    talant_colleague_id: int
    # Names, keys, titles, texts and digests that only Chenôve's things carry.
    markers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Twin:
    """The same request aimed at a ghost: ``value`` in the call is ``ghost`` here."""

    value: str | int
    ghost: str | int
    json: Any = None
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Call:
    """One request of the walk.

    Path parameters come from :func:`foreign_values` (each value in turn, each compared
    with a ghost) unless ``path`` pins them, e.g. to a Talant asset with a Chenôve body.
    A call that is not a safe method must be refused unless ``may_succeed``: those are
    legitimate Talant writes that merely brush against Chenôve (a Talant polygon drawn over
    both communes, an import that skips its Chenôve row) and are checked by the snapshot.

    A call aimed at Chenôve through its body or query rather than its path names its
    ``twin`` (see :func:`aimed`): the answers must not tell the two apart. A Talant
    control names the status it must ``expect``, proving the route works for Talant, so
    that the refusals around it are the scope's doing (a control may write).
    """

    label: str = ""
    query: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    content: str | bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    path: Mapping[str, str | int] | None = None
    may_succeed: bool = False
    twin: Twin | None = None
    expect: int | None = None

    @property
    def has_body(self) -> bool:
        """Whether the call sends a request body."""
        return self.json is not None or self.content is not None

    @property
    def may_write(self) -> bool:
        """Whether a write may succeed (a Talant write, checked by the snapshot)."""
        return self.may_succeed or (self.expect is not None and self.expect < 400)


Build = Callable[[str | int], dict[str, Any]]


def by_asset(value: str | int) -> dict[str, Any]:
    """A query naming one asset."""
    return {"asset_id": str(value)}


def aimed(
    label: str,
    name: str,
    value: str | int,
    build: Build,
    *,
    in_query: bool = False,
) -> Call:
    """A call carrying ``value`` (a thing of kind ``name``) in its body (or query) made by
    ``build``, twinned with the same call carrying that kind's ghost."""
    ghost = GHOSTS[name]
    if in_query:
        return Call(label, query=build(value), twin=Twin(value, ghost, query=build(ghost)))
    return Call(label, json=build(value), twin=Twin(value, ghost, json=build(ghost)))


def foreign_values(w: World) -> dict[str, list[str | int]]:
    """Each path parameter's values that point at something outside Talant."""
    return {
        "asset_id": [
            w.chenove_cabinet,
            w.chenove_light,
            w.chenove_api_asset,
            w.moved_asset,
            w.decommissioned_asset,
            *w.chenove_equipment.values(),
        ],
        # Devices are assets: a Chenôve device id is a Chenôve asset id.
        "device_id": [w.chenove_light, w.chenove_cabinet, w.moved_asset],
        "group_id": list(w.foreign_groups.values()),
        "username": [w.chenove_user, w.bi_communal_user, "admin"],
        "token_id": list(w.foreign_tokens.values()),
        # The commune by code and by name, in any case.
        "ref": [CHENOVE, "Chenôve", "CHENOVE", "chenôve"],
        # The catalogue is the same for everybody; the walk still passes through it.
        "key": ["lighting_cabinet", "streetlight"],
        # The console's own paths: its page whatever the path, never data.
        "path": [CHENOVE, f"assets/{w.chenove_light}", f"open/datasets/{CHENOVE}"],
        "command_id": list(w.chenove_commands.values()),
        "batch_id": [*w.chenove_batches.values(), *w.mixed_batches.values()],
        "alarm_id": list(w.watch.chenove_alarms.values()),
        "rule_id": list(w.watch.chenove_rules.values()),
        "route_id": list(w.watch.chenove_routes.values()),
        "team_id": list(w.watch.chenove_teams.values()),
        "user_id": [w.watch.chenove_user_id],
        "intervention_id": [w.watch.chenove_intervention],
        "photo_id": [w.watch.chenove_photo],
        # Policies are metropolis-wide: no commune user may change one.
        "policy_id": [w.watch.policy],
        # Lighting: Chenôve's own, and the metropolis-wide ones no commune user changes
        # (reading those is allowed: the calls name them where they are read).
        "program_id": [w.lighting.chenove_program],
        "calendar_id": [w.lighting.chenove_calendar],
        "assignment_id": [w.lighting.chenove_assignment],
        "override_id": [w.lighting.chenove_override],
        # Open data is the metropolis's: no commune user manages its keys or snapshots.
        "key_id": [w.opendata_key],
        "dataset_id": ["streetlights", "traffic-counts-hourly"],
        "report_id": [w.reports.chenove_report],
        "approach_id": [w.mobility_approach],
        "situation_id": [w.roads.chenove_situation],
        "entry_id": [w.opslog.chenove_entry],
        "salting_route_id": list(w.vehicles.chenove_routes),
        # Public (Open311): what anyone reads, the same for everybody.
        "service_code": ["streetlight-out", "no-such-service"],
        "service_request_id": [w.reports.chenove_ticket],
        "habilitation_id": [w.video.chenove_habilitation],
        "session_id": [w.video.chenove_session],
        "hold_id": [w.video.chenove_hold],
        "extraction_id": [w.video.chenove_extraction],
        # Chenôve's camera, and a Chenôve asset that is no camera.
        "camera_id": [w.chenove_equipment["camera"], w.chenove_light],
        # A preset is nobody's: the calls pin it, the camera is what is aimed at.
        "preset": [1],
        "entity_id": ngsi_entities(w),
        **traffic_values(w.traffic, w.chenove_light),
        **plans_values(w.plans),
    }


NGSI = "/ngsi-ld/v1"


def ngsi_entities(w: World) -> list[str | int]:
    """The NGSI-LD entities of Chenôve's assets (and of the moved and retired ones)."""
    urns: list[str | int] = [
        f"urn:ngsi-ld:Streetlight:{w.chenove_light}",
        f"urn:ngsi-ld:StreetlightControlCabinet:{w.chenove_cabinet}",
    ]
    others = (w.chenove_light, w.chenove_cabinet, w.moved_asset, w.decommissioned_asset)
    urns += [f"urn:ngsi-ld:Device:{a}" for a in (*others, *w.chenove_equipment.values())]
    return urns


def ngsi_plan(w: World) -> dict[tuple[str, str], list[Call]]:
    """The NGSI-LD facade: every query form aimed at Chenôve (ids, patterns, q, geometry,
    temporal windows) answers as if Chenôve had nothing; plain queries answer Talant's."""
    w_, s_, e_, n_ = CHENOVE_BOX
    chenove_polygon = f"[[[{w_},{s_}],[{e_},{s_}],[{e_},{n_}],[{w_},{n_}],[{w_},{s_}]]]"
    near_chenove = {
        "georel": "near;maxDistance==3000",
        "geometry": "Point",
        "coordinates": "[5.006,47.292]",
    }
    within = {"georel": "within", "geometry": "Polygon", "coordinates": chenove_polygon}
    window = {"timerel": "after", "timeAt": "2000-01-01T00:00:00Z"}

    def by_id(value: str | int) -> dict[str, Any]:
        return {"id": f"urn:ngsi-ld:Streetlight:{value}"}

    def queries(extra: Mapping[str, str]) -> list[Call]:
        return [
            Call("all", query={**extra, "limit": "100", "count": "true"}, expect=200),
            Call("Talant lights", query={**extra, "type": "Streetlight"}, expect=200),
            aimed(
                "Chenôve light",
                "asset_id",
                w.chenove_light,
                lambda v: {**extra, **by_id(v)},
                in_query=True,
            ),
            Call("pattern", query={**extra, "idPattern": "CHE", "limit": "100"}),
            Call("q commune", query={**extra, "q": 'areaServed=="chenove"'}),
            Call("near Chenôve", query={**extra, **near_chenove, "limit": "100"}),
            Call("within Chenôve", query={**extra, **within, "limit": "100"}),
            Call("Devices", query={**extra, "type": "Device", "limit": "100"}),
        ]

    return {
        ("GET", f"{NGSI}/entities"): [
            *queries({}),
            Call("keyValues", query={"options": "keyValues", "limit": "100"}),
            Call("JSON-LD", query={"limit": "100"}, headers={"Accept": "application/ld+json"}),
        ],
        ("GET", f"{NGSI}/entities/{{entity_id}}"): [Call(), Call(query={"options": "keyValues"})],
        ("GET", f"{NGSI}/temporal/entities"): [
            *queries(window),
            Call("last readings", query={"lastN": "5", "limit": "100"}),
        ],
        ("GET", f"{NGSI}/temporal/entities/{{entity_id}}"): [
            Call(query=window),
            Call(query={"lastN": "3"}),
        ],
        ("GET", f"{NGSI}/types"): [Call(expect=200), Call(query={"details": "true"})],
        ("GET", f"{NGSI}/jsonldContexts/beffroi.jsonld"): [Call(expect=200)],
    }


def light_body(asset_id: str, commune: str, parent: str | None = None) -> dict[str, Any]:
    """A streetlight to create."""
    lon, lat = (5.006, 47.292) if commune.lower().startswith("chen") else (5.005, 47.337)
    return {
        "id": asset_id,
        "type": "streetlight",
        "name": f"Point lumineux {asset_id}",
        "commune": commune,
        "location": {"type": "Point", "coordinates": [lon, lat]},
        "parent_id": parent,
        "attributes": {"lamp_type": "LED", "rated_power_w": 40},
    }


# Equipment beyond lighting, with the attributes the catalogue asks for.
EQUIPMENT: dict[str, dict[str, Any]] = {
    "bollard": {"site": "Place du marché", "access": "permanent"},
    "traffic_controller": {
        "intersection": "Carrefour de la mairie",
        "plans": 4,
        "bus_priority": True,
    },
    "camera": {"kind": "ptz", "presets": 8},
}


def equipment_body(asset_id: str, asset_type: str, commune: str) -> dict[str, Any]:
    """A piece of equipment (see ``EQUIPMENT``) to create."""
    return {
        **light_body(asset_id, commune),
        "type": asset_type,
        "name": f"{asset_type} {asset_id}",
        "attributes": EQUIPMENT[asset_type],
    }


def csv_rows(*rows: tuple[str, str, str, str | None]) -> str:
    """An import file of streetlights: (id, commune, lon/lat side, parent) per row."""
    out = ["id,type,name,commune,lon,lat,parent_id,attr.lamp_type"]
    for asset_id, commune, side, parent in rows:
        lon, lat = ("5.006", "47.292") if side == CHENOVE else ("5.005", "47.337")
        out.append(f"{asset_id},streetlight,PL {asset_id},{commune},{lon},{lat},{parent or ''},LED")
    return "\n".join(out) + "\n"


def geojson_rows(*rows: tuple[str, str]) -> str:
    """An import file of streetlights as GeoJSON: (id, commune) per row."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [5.006, 47.292]},
            "properties": {"id": asset_id, "type": "streetlight", "name": asset_id, "commune": c},
        }
        for asset_id, c in rows
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def walk_plan(w: World) -> dict[tuple[str, str], list[Call]]:
    """Every route of the API and the requests that aim it at Chenôve.

    Keys are (method, route path) exactly as in ``app.routes``.
    """
    csv_h = {"Content-Type": "text/csv"}
    geo_h = {"Content-Type": GEOJSON}
    talant_light = {"asset_id": w.talant_light}
    talant_list = {"group_id": w.talant_list_group}
    talant_poly = {"group_id": w.talant_polygon_group}
    colleague = {"username": w.talant_colleague}
    myself = {"username": w.actor}
    chenove_ids = list(w.chenove_assets[:3])
    user = {"password": PASSWORD, "roles": ["viewer"]}
    device = {"Authorization": f"Bearer {w.talant_device_secret}"}
    return {
        ("GET", f"{API}/auth/me"): [Call()],
        ("GET", f"{API}/users"): [Call()],
        ("POST", f"{API}/users"): [
            Call("scoped to Chenôve", json={"username": "u-1", "communes": [CHENOVE], **user}),
            Call("by name", json={"username": "u-2", "communes": ["Chenôve"], **user}),
            Call("both communes", json={"username": "u-3", "communes": [TALANT, CHENOVE], **user}),
            Call("metropolis-wide", json={"username": "u-4", "communes": None, **user}),
            Call("taken name", json={"username": w.chenove_user, "communes": [TALANT], **user}),
        ],
        ("GET", f"{API}/users/{{username}}"): [Call()],
        ("PATCH", f"{API}/users/{{username}}"): [
            Call("rename", json={"display_name": "x"}),
            Call("disable", json={"disabled": True}),
            Call("new password", json={"password": PASSWORD + "!"}),
            Call("pull into Talant", json={"communes": [TALANT]}),
            Call("colleague to Chenôve", path=colleague, json={"communes": [CHENOVE]}),
            Call("colleague to both", path=colleague, json={"communes": [TALANT, "Chenôve"]}),
            Call("colleague everywhere", path=colleague, json={"all_communes": True}),
            Call("self to Chenôve", path=myself, json={"communes": [TALANT, CHENOVE]}),
            Call("self everywhere", path=myself, json={"all_communes": True}),
        ],
        ("GET", f"{API}/tokens"): [
            Call(),
            Call("of Chenôve user", query={"username": w.chenove_user}),
            Call("of two-commune user", query={"username": w.bi_communal_user}),
            Call("of admin", query={"username": "admin"}),
        ],
        ("POST", f"{API}/tokens"): [
            Call("for Chenôve user", json={"name": "x", "username": w.chenove_user}),
            Call("for two-commune user", json={"name": "x", "username": w.bi_communal_user}),
            Call("for admin", json={"name": "x", "username": "admin"}),
        ],
        ("DELETE", f"{API}/tokens/{{token_id}}"): [Call()],
        ("GET", f"{API}/communes"): [Call()],
        ("GET", f"{API}/communes/{{ref}}"): [Call()],
        ("POST", f"{API}/communes"): [
            Call("twin", json={"name": "Chenôve-Nord", "lat": 47.3, "lon": 5.0}),
            Call("same code", json={"name": "Chenôve", "code": CHENOVE, "lat": 0, "lon": 0}),
        ],
        ("PUT", f"{API}/communes"): [
            Call("move it", json=[{"name": "Chenôve", "code": CHENOVE, "lat": 0, "lon": 0}]),
        ],
        ("GET", f"{API}/types"): [Call()],
        ("GET", f"{API}/types/{{key}}"): [Call()],
        ("GET", f"{API}/assets"): [
            Call(),
            Call("by code", query={"commune": CHENOVE}),
            Call("by name", query={"commune": "Chenôve"}),
            Call("both", query={"commune": f"{TALANT},{CHENOVE}"}),
            Call("children", query={"parent": w.chenove_cabinet}),
            Call("text", query={"q": "CHE"}),
            Call("text name", query={"q": "Chenôve"}),
            Call("bbox", query={"bbox": ",".join(map(str, CHENOVE_BOX))}),
            Call("retired", query={"status": "decommissioned"}),
            Call("any status", query={"status": "in_service,decommissioned,maintenance"}),
            Call("cursor", query={"cursor": keyset.encode([w.chenove_cabinet]), "limit": "2"}),
            Call("geojson", query={"format": "geojson", "detail": "true", "limit": "50000"}),
            Call("accept", headers={"Accept": GEOJSON}),
            Call("accept bbox", query={"bbox": "4,47,6,48"}, headers={"Accept": GEOJSON}),
        ],
        ("POST", f"{API}/assets"): [
            Call("in Chenôve", json=light_body("SL-WALK-1", CHENOVE)),
            Call("by name", json=light_body("SL-WALK-2", "Chenôve")),
            Call("upper case", json=light_body("SL-WALK-3", "CHENOVE")),
            Call("Chenôve parent", json=light_body("SL-WALK-4", TALANT, w.chenove_cabinet)),
            Call("Chenôve id", json=light_body(w.chenove_light, TALANT)),
        ],
        ("GET", f"{API}/assets/export"): [
            Call(query={"format": "csv"}),
            Call(query={"format": "geojson"}),
            Call("Chenôve csv", query={"format": "csv", "commune": CHENOVE}),
            Call("Chenôve geojson", query={"format": "geojson", "commune": "Chenôve"}),
            Call("lights", query={"format": "geojson", "type": "streetlight"}),
        ],
        ("POST", f"{API}/assets/import"): [
            Call("csv row", content=csv_rows(("SL-WALK-5", CHENOVE, CHENOVE, None)), headers=csv_h),
            Call("geojson row", content=geojson_rows(("SL-WALK-6", "Chenôve")), headers=geo_h),
            Call(
                "overwrite",
                content=csv_rows((w.chenove_light, TALANT, TALANT, None)),
                headers=csv_h,
            ),
            Call(
                "Chenôve parent",
                content=csv_rows(("SL-WALK-7", TALANT, TALANT, w.chenove_cabinet)),
                headers=csv_h,
            ),
            Call(
                "dry run",
                query={"dry_run": "true"},
                content=csv_rows(("SL-WALK-8", CHENOVE, CHENOVE, None)),
                headers=csv_h,
            ),
            Call(
                "skip the Chenôve rows",
                query={"skip_invalid": "true"},
                content=csv_rows(
                    ("SL-WALK-TAL", TALANT, TALANT, w.talant_cabinet),
                    ("SL-WALK-9", CHENOVE, CHENOVE, None),
                    (w.chenove_cabinet, TALANT, TALANT, None),
                    ("SL-WALK-10", TALANT, TALANT, w.chenove_cabinet),
                ),
                headers=csv_h,
                may_succeed=True,
            ),
        ],
        ("GET", f"{API}/assets/{{asset_id}}"): [Call()],
        ("PATCH", f"{API}/assets/{{asset_id}}"): [
            Call("rename", json={"name": "x"}),
            Call("steal into Talant", json={"commune": TALANT}),
            Call("status", json={"status": "maintenance"}),
            Call("push into Chenôve", path=talant_light, json={"commune": CHENOVE}),
            Call("Chenôve parent", path=talant_light, json={"parent_id": w.chenove_cabinet}),
        ],
        ("POST", f"{API}/assets/{{asset_id}}/decommission"): [Call(json={"reason": "walk"})],
        ("GET", f"{API}/groups"): [Call()],
        ("POST", f"{API}/groups"): [
            Call(
                "Chenôve list",
                json={
                    "name": "walk-1",
                    "commune": CHENOVE,
                    "kind": "list",
                    "asset_ids": chenove_ids,
                },
            ),
            Call(
                "Chenôve polygon",
                json={
                    "name": "walk-2",
                    "commune": "Chenôve",
                    "kind": "polygon",
                    "polygon": box_polygon(CHENOVE_BOX),
                },
            ),
            Call("metropolis", json={"name": "walk-3", "kind": "list", "asset_ids": chenove_ids}),
            Call(
                "Talant list of Chenôve",
                json={
                    "name": "walk-4",
                    "commune": TALANT,
                    "kind": "list",
                    "asset_ids": chenove_ids,
                },
            ),
            Call(
                "Talant list of moved",
                json={
                    "name": "walk-5",
                    "commune": TALANT,
                    "kind": "list",
                    "asset_ids": [w.talant_light, w.moved_asset],
                },
            ),
            Call(
                "Chenôve group name",
                json={"name": next(iter(w.foreign_groups)), "commune": TALANT, "kind": "list"},
            ),
            Call(
                "Talant polygon over both",
                json={
                    "name": "walk-talant-zone",
                    "commune": TALANT,
                    "kind": "polygon",
                    "polygon": box_polygon(BOTH_COMMUNES_BOX),
                },
                may_succeed=True,
            ),
        ],
        ("GET", f"{API}/groups/{{group_id}}"): [
            Call(),
            Call("Talant list", path=talant_list),
            Call("Talant polygon", path=talant_poly),
        ],
        ("GET", f"{API}/groups/{{group_id}}/members"): [
            Call(),
            Call("Talant list", path=talant_list),
            Call("Talant polygon", path=talant_poly),
        ],
        ("PATCH", f"{API}/groups/{{group_id}}"): [
            Call("rename", json={"name": "x"}),
            Call("add Talant", json={"add": [w.talant_light]}),
            Call("empty", json={"remove": chenove_ids}),
            Call("add Chenôve", path=talant_list, json={"add": chenove_ids}),
            Call("add moved", path=talant_list, json={"add": [w.moved_asset]}),
            Call(
                "Chenôve name",
                path=talant_list,
                json={"name": next(iter(w.foreign_groups))},
            ),
        ],
        ("DELETE", f"{API}/groups/{{group_id}}"): [Call()],
        ("GET", f"{API}/audit"): [
            Call(),
            Call("commune", query={"commune": CHENOVE}),
            Call("target", query={"target_id": w.chenove_light}),
            Call("group", query={"target_type": "group", "limit": "100"}),
            Call("assets", query={"action": "asset"}),
            Call("admin", query={"actor": "admin"}),
            Call("Chenôve user", query={"target_id": w.chenove_user}),
            Call("denied", query={"outcome": "denied"}),
        ],
        ("GET", f"{API}/audit/verify"): [Call()],
        # Device ingest takes a device token: the user's own bearer is not one, and a Talant
        # person must not be able to speak for a Chenôve device.
        ("POST", f"{API}/devices/{{device_id}}/telemetry"): [
            Call(json={"values": {"level_pct": 0}}),
            Call("Talant device's token", json={"values": {"level_pct": 0}}, headers=device),
        ],
        ("POST", f"{API}/devices/{{device_id}}/events"): [
            Call(json={"code": "lampFailure", "active": False}),
            Call("Talant device's token", json={"code": "lampFailure"}, headers=device),
        ],
        ("GET", f"{API}/assets/{{asset_id}}/telemetry"): [
            Call(query={"key": "level_pct"}),
            Call(query={"key": "power_w", "since": "2000-01-01T00:00:00Z"}),
        ],
        ("GET", f"{API}/assets/{{asset_id}}/telemetry/aggregate"): [
            Call(query={"key": "power_w"}),
            Call(query={"key": "level_pct", "bucket": "1m"}),
        ],
        ("GET", f"{API}/assets/{{asset_id}}/state"): [Call()],
        ("GET", f"{API}/telemetry/latest"): [
            Call(),
            Call("by code", query={"commune": CHENOVE}),
            Call("both", query={"commune": f"Chenôve,{TALANT}", "keys": "level_pct,power_w"}),
            Call("bbox", query={"bbox": ",".join(map(str, CHENOVE_BOX))}),
            Call("retired", query={"status": "decommissioned"}),
            Call("cursor", query={"cursor": keyset.encode([w.chenove_cabinet])}),
        ],
        ("GET", f"{API}/ingest/rejections"): [
            Call(),
            Call("long", query={"hours": "2160"}),
            aimed("one device", "asset_id", w.chenove_light, by_asset, in_query=True),
            Call("Talant device", query={"asset_id": w.talant_light}, expect=200),
        ],
        ("GET", f"{API}/ingest/login-failures"): [
            Call(),
            aimed("one device", "asset_id", w.chenove_light, by_asset, in_query=True),
            Call("Talant device", query={"asset_id": w.talant_light}, expect=200),
        ],
        ("GET", "/api/health"): [Call()],
        ("GET", "/metrics"): [Call()],
        # --- console ---
        ("GET", f"{API}/map"): [
            Call(),
            Call("Chenôve", query={"commune": CHENOVE}),
            Call("by type", query={"type": "streetlight"}),
            Call("Talant", query={"commune": TALANT}, expect=200),
        ],
        ("GET", f"{API}/console/config"): [Call()],
        # Sums hold no ids or names for the walk to spot: test_energy.py checks that
        # Chenôve's meters do not count in Talant's energy.
        ("GET", f"{API}/energy/lighting"): [Call(), Call("Talant", expect=200)],
        **energy_plan(w),
        # The page and its files hold no data (the stream has tests of its own).
        ("GET", "/"): [Call()],
        ("GET", "/api/docs"): [Call()],
        ("GET", "/{path:path}"): [Call()],
        **command_plan(w),
        **watch_plan(w),
        **lighting_plan(w),
        **traffic_plan(w.traffic, Call, aimed),
        **ngsi_plan(w),
        **video_plan(w),
        **reports_plan(w),
        **mobility_plan(w),
        **roads_plan(w),
        **opslog_plan(w),
        **plans_plan(w.plans, Call, aimed, w.chenove_light),
        **vehicles_plan(w.vehicles, Call),
        **PUBLIC_PLAN,
        **opendata_plan(),
    }


def video_plan(w: World) -> dict[tuple[str, str], list[Call]]:
    """The video area: Chenôve's camera, habilitation, session, hold and extraction are the
    targets; Talant's camera is the control (docs/video.md)."""
    v = w.video
    camera = w.chenove_equipment["camera"]
    talant_camera = {"camera_id": v.talant_camera}
    now = datetime.now(UTC)
    period = {
        "period_start": (now - timedelta(days=3)).isoformat(),
        "period_end": (now - timedelta(days=2)).isoformat(),
    }

    def habilitation(**cover: Any) -> dict[str, Any]:
        return {
            "username": w.actor,
            "authority": "Préfecture",
            "reference": "walk",
            "valid_from": (now - timedelta(days=1)).isoformat(),
            "valid_until": (now + timedelta(days=3)).isoformat(),
            **cover,
        }

    def session(cameras: list[Any]) -> dict[str, Any]:
        return {"cameras": cameras, "reason": "incident en cours"}

    def hold(cameras: list[Any]) -> dict[str, Any]:
        return {"cameras": cameras, "reference": "walk", "reason": "walk", **period}

    masks = {"polygons": [[[0.1, 0.1], [0.2, 0.1], [0.2, 0.2]]]}
    decision = {"reason": "walk"}
    steer = {"name": "goto_preset", "params": {"preset": 2}}
    return {
        ("GET", f"{API}/video/reasons"): [Call(expect=200)],
        ("GET", f"{API}/video/habilitations"): [
            Call(),
            Call("active", query={"active": "true"}),
            Call("of the Chenôve agent", query={"username": "video-metro"}),
        ],
        ("GET", f"{API}/video/habilitations/{{habilitation_id}}"): [Call()],
        ("POST", f"{API}/video/habilitations"): [
            Call("Chenôve", json=habilitation(communes=[CHENOVE])),
            Call("Chenôve by name", json=habilitation(communes=["Chenôve"])),
            aimed("Chenôve camera", "asset_id", camera, lambda c: habilitation(cameras=[c])),
            Call(
                "for the Chenôve agent",
                json={**habilitation(communes=[TALANT]), "username": "video-metro"},
            ),
            Call("Talant", json=habilitation(communes=[TALANT]), expect=201),
        ],
        ("POST", f"{API}/video/habilitations/{{habilitation_id}}/revoke"): [Call(json=decision)],
        ("GET", f"{API}/video/sessions"): [
            Call(),
            Call("everyone's", query={"mine": "false"}, expect=200),
            Call("open", query={"mine": "false", "open": "true"}),
        ],
        ("GET", f"{API}/video/sessions/{{session_id}}"): [Call()],
        ("POST", f"{API}/video/sessions"): [
            aimed("Chenôve camera", "asset_id", camera, lambda c: session([c])),
            aimed(
                "beside Talant's",
                "asset_id",
                camera,
                lambda c: session([v.talant_camera, c]),
            ),
            Call("Talant camera", json=session([v.talant_camera]), expect=201),
        ],
        ("POST", f"{API}/video/sessions/{{session_id}}/end"): [Call()],
        ("POST", f"{API}/video/sessions/{{session_id}}/commands"): [
            Call("its camera", json={"camera_id": camera, **steer}),
        ],
        ("POST", f"{API}/video/extractions"): [
            aimed(
                "Chenôve camera",
                "asset_id",
                camera,
                lambda c: {
                    "camera_id": c,
                    "start": (now - timedelta(hours=3)).isoformat(),
                    "end": (now - timedelta(hours=2)).isoformat(),
                    "reason": "walk",
                },
            ),
        ],
        ("POST", f"{API}/video/transmissions"): [
            aimed(
                "Chenôve extraction",
                "extraction_id",
                v.chenove_extraction,
                lambda e: {
                    "extraction_id": e,
                    "requester": "police",
                    "reference": "walk",
                    "recipient": "OPJ",
                    "medium": "USB",
                },
            ),
        ],
        ("GET", f"{API}/video/cameras/{{camera_id}}/retention"): [
            Call(),
            Call("Talant", path=talant_camera, expect=200),
        ],
        ("PUT", f"{API}/video/cameras/{{camera_id}}/retention"): [
            Call(json={"days": 7, "authorisation": "walk"}),
            Call(
                "Talant", path=talant_camera, json={"days": 20, "authorisation": "walk"}, expect=200
            ),
        ],
        ("GET", f"{API}/video/cameras/{{camera_id}}/masks"): [
            Call(),
            Call("Talant", path=talant_camera, expect=200),
        ],
        ("PUT", f"{API}/video/cameras/{{camera_id}}/masks/{{preset}}"): [
            Call(path={"preset": 1}, json=masks),
            Call("Talant", path={**talant_camera, "preset": 1}, json=masks, expect=200),
        ],
        ("GET", f"{API}/video/holds"): [Call(), Call("asked", query={"state": "requested"})],
        ("GET", f"{API}/video/holds/{{hold_id}}"): [Call()],
        ("POST", f"{API}/video/holds"): [
            aimed("Chenôve camera", "asset_id", camera, lambda c: hold([c])),
            aimed("beside Talant's", "asset_id", camera, lambda c: hold([v.talant_camera, c])),
            Call("Talant camera", json=hold([v.talant_camera]), expect=201),
        ],
        ("POST", f"{API}/video/holds/{{hold_id}}/approve"): [Call(json=decision)],
        ("POST", f"{API}/video/holds/{{hold_id}}/refuse"): [Call(json=decision)],
        ("POST", f"{API}/video/holds/{{hold_id}}/lift"): [Call(json=decision)],
        ("GET", f"{API}/video/register"): [
            Call(expect=200),
            aimed(
                "Chenôve camera", "asset_id", camera, lambda c: {"camera_id": str(c)}, in_query=True
            ),
            Call("by the Chenôve agent", query={"agent": "video-metro"}),
            Call("views", query={"kind": "view.start,steering,extraction"}),
        ],
        ("GET", f"{API}/video/register/export"): [
            Call("csv", query={"format": "csv"}, expect=200),
            Call("pdf", query={"format": "pdf"}, expect=200),
            Call("Chenôve camera", query={"format": "csv", "camera_id": camera}),
        ],
        ("GET", f"{API}/video/register/verify"): [Call()],
    }


def reports_plan(w: World) -> dict[tuple[str, str], list[Call]]:
    """The staff side of citizen reports (the citizen line, the reports list)."""
    line = {"service_code": "graffiti", "description": "walk: tags on a wall"}
    at_chenove = {"type": "Point", "coordinates": [5.006, 47.292]}
    return {
        ("GET", f"{API}/reports"): [
            Call(),
            Call("Chenôve", query={"commune": CHENOVE}),
            Call("Talant", query={"commune": TALANT}, expect=200),
        ],
        ("GET", f"{API}/reports/{{report_id}}"): [Call()],
        ("GET", f"{API}/reports/{{report_id}}/photo"): [Call()],
        ("POST", f"{API}/reports/{{report_id}}/notes"): [Call(json={"text": "walk note"})],
        ("POST", f"{API}/reports"): [
            Call("Chenôve", json={**line, "commune": CHENOVE}),
            Call("Chenôve by position", json={**line, "location": at_chenove}),
            Call("Talant", json={**line, "commune": TALANT}, expect=201),
        ],
    }


def mobility_plan(w: World) -> dict[tuple[str, str], list[Call]]:
    """Bus priority and traffic counts: Chenôve's controller, its approach, its request
    and its counts are the targets (docs/mobility.md)."""
    controller = w.chenove_equipment["traffic_controller"]
    sector = {
        "controller_id": controller,
        "name": "walk approach",
        "direction": "north",
        "shape": "sector",
        "coordinates": [[5.006, 47.292]],
        "radius_m": 100,
    }
    counts: list[Call] = [
        Call(),
        Call("Chenôve", query={"commune": CHENOVE}),
        Call("Chenôve controller", query={"asset_id": controller, "period": "6"}),
        Call("Talant", query={"commune": TALANT}, expect=200),
    ]
    by_controller = {"controller_id": controller}
    return {
        ("GET", f"{API}/mobility/approaches"): [
            Call(),
            Call("Chenôve controller", query=by_controller),
            Call("Talant", expect=200),
        ],
        ("POST", f"{API}/mobility/approaches"): [Call("Chenôve controller", json=sector)],
        ("GET", f"{API}/mobility/approaches/{{approach_id}}"): [Call()],
        ("PATCH", f"{API}/mobility/approaches/{{approach_id}}"): [
            Call(json={"version": 1, "radius_m": 60})
        ],
        ("DELETE", f"{API}/mobility/approaches/{{approach_id}}"): [Call()],
        ("GET", f"{API}/mobility/requests"): [
            Call(),
            Call("Chenôve controller", query=by_controller),
            Call("Talant", expect=200),
        ],
        ("GET", f"{API}/mobility/delay-saved"): [Call(), Call("Talant", expect=200)],
        ("GET", f"{API}/mobility/counts"): counts,
        ("GET", f"{API}/mobility/counts.csv"): counts,
    }


# The public routes (Open311, no login): whoever calls, the same answer, and never a
# person's data (public_problems posts a report with some and reads them all again).
# The walk sends them as it sends the others; a post there is anyone's right, so the
# walk's one is refused for its input and public_problems makes the real one.
PUBLIC_PLAN: dict[tuple[str, str], list[Call]] = {
    key: calls
    for fmt in ("json", "xml")
    for key, calls in {
        ("GET", f"/open311/v2/discovery.{fmt}"): [Call(expect=200)],
        ("GET", f"/open311/v2/services.{fmt}"): [Call(expect=200)],
        ("GET", f"/open311/v2/services/{{service_code}}.{fmt}"): [Call()],
        ("GET", f"/open311/v2/requests.{fmt}"): [Call(expect=200)],
        ("GET", f"/open311/v2/requests/{{service_request_id}}.{fmt}"): [Call()],
        ("POST", f"/open311/v2/requests.{fmt}"): [
            Call(
                "no service",
                content="description=walk",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        ],
    }.items()
}
PUBLIC_REFUSED = REFUSED | {400}


# Roads (GeoJSON lines): within Chenôve, within Talant, and from Talant down to Chenôve.
CHENOVE_ROAD = {"type": "LineString", "coordinates": [[5.003, 47.291], [5.010, 47.293]]}
TALANT_ROAD = {"type": "LineString", "coordinates": [[5.000, 47.336], [5.010, 47.338]]}
ACROSS_ROAD = {"type": "LineString", "coordinates": [[5.005, 47.337], [5.006, 47.292]]}


def road_situation(line: dict[str, Any], title: str = "walk") -> dict[str, Any]:
    """A road closure to record along ``line``."""
    ends = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    return {
        "type": "closure",
        "title": title,
        "road": "Rue du Walk",
        "geometry": line,
        "ends_at": ends,
        "impact": {"road_closed": True},
    }


def roads_plan(w: World) -> dict[tuple[str, str], list[Call]]:
    """Road situations: Chenôve's is the target; the one crossing both communes is read
    by the Talant user (its Chenôve side unnamed) and changed by no commune user."""
    r = w.roads
    across = {"situation_id": r.mixed_situation}
    mine = {"situation_id": r.talant_situation}
    close = {"version": 1, "reason": "walk"}
    base = f"{API}/roads/situations/{{situation_id}}"

    def on_sign(asset_id: str | int) -> dict[str, Any]:
        return {"signs": [{"asset_id": asset_id, "text": "ROUTE FERMEE"}]}

    return {
        ("GET", f"{API}/roads/situations"): [
            Call(),
            Call("ended", query={"status": "ended"}),
            Call("Talant's closures", query={"type": "closure"}, expect=200),
        ],
        ("POST", f"{API}/roads/situations"): [
            Call("in Chenôve", json=road_situation(CHENOVE_ROAD)),
            Call("across both", json=road_situation(ACROSS_ROAD)),
            Call("in Talant", json=road_situation(TALANT_ROAD), expect=201),
        ],
        ("GET", base): [Call(), Call("across both", path=across, expect=200)],
        ("PATCH", base): [
            Call(json={"version": 1, "title": "walk"}),
            Call("across both", path=across, json={"version": 1, "title": "walk"}),
            Call(
                "Talant's, moved to Chenôve",
                path=mine,
                json={"version": 1, "geometry": CHENOVE_ROAD},
            ),
        ],
        ("POST", f"{base}/end"): [Call(json=close), Call("across both", path=across, json=close)],
        ("POST", f"{base}/cancel"): [
            Call(json=close),
            Call("across both", path=across, json=close),
        ],
        ("GET", f"{base}/signs"): [
            Call(),
            Call("across both", path=across, expect=200),
            Call("far", path=across, query={"within_m": "20000"}, expect=200),
        ],
        ("POST", f"{base}/signs/display"): [
            Call(json=on_sign("PMV-TAL-WALK")),
            Call("across both", path=across, json=on_sign("PMV-TAL-WALK")),
            replace(
                aimed("Chenôve sign, Talant's situation", "asset_id", r.chenove_sign, on_sign),
                path=mine,
            ),
        ],
        ("POST", f"{base}/signs/clear"): [
            Call(json={}),
            Call("across both", path=across, json={}),
        ],
        # The DATEX II file: what the public endpoint publishes, the same for everyone.
        ("GET", f"{API}/roads/datex2"): [Call(expect=200)],
    }


def log_entry(commune: str, **links: Any) -> dict[str, Any]:
    """An operations log entry to write in ``commune``."""
    return {"desk": "police", "category": "incident", "text": "walk", "commune": commune, **links}


def opslog_plan(w: World) -> dict[tuple[str, str], list[Call]]:
    """The operations log: Chenôve's entry is the target; a Talant entry may name nothing
    of Chenôve (each kind of link twinned with a ghost); the chain is verified only
    metropolis-wide."""
    base = f"{API}/opslog/entries"
    today = {"day": datetime.now(UTC).date().isoformat(), "desk": "police"}

    def naming(field_: str) -> Build:
        return lambda v: log_entry(TALANT, **{field_: [v]})

    alarm = next(iter(w.watch.chenove_alarms.values()))
    command = next(iter(w.chenove_commands.values()))
    return {
        ("GET", base): [
            Call(),
            Call("Chenôve", query={"commune": CHENOVE}),
            Call("text", query={"q": "vitrine"}),
            aimed("Chenôve light", "asset_id", w.chenove_light, by_asset, in_query=True),
            aimed(
                "Chenôve alarm", "alarm_id", alarm, lambda v: {"alarm_id": str(v)}, in_query=True
            ),
            Call("Talant", query={"commune": TALANT}, expect=200),
        ],
        ("POST", base): [
            Call("in Chenôve", json=log_entry(CHENOVE)),
            aimed("Chenôve light", "asset_id", w.chenove_light, naming("asset_ids")),
            aimed("Chenôve alarm", "alarm_id", alarm, naming("alarm_ids")),
            aimed(
                "Chenôve work order",
                "intervention_id",
                w.watch.chenove_intervention,
                naming("intervention_ids"),
            ),
            aimed("Chenôve report", "report_id", w.reports.chenove_report, naming("report_ids")),
            aimed("Chenôve command", "command_id", command, naming("command_ids")),
            aimed(
                "following Chenôve's",
                "entry_id",
                w.opslog.chenove_entry,
                lambda v: log_entry(TALANT, follows=v),
            ),
            Call("in Talant", json=log_entry(TALANT), expect=201),
        ],
        ("GET", f"{base}/{{entry_id}}"): [
            Call(),
            Call("Talant's", path={"entry_id": w.opslog.talant_entry}, expect=200),
        ],
        ("POST", f"{base}/{{entry_id}}/amendments"): [
            Call(json={"text": "walk"}),
            Call(
                "Talant's",
                path={"entry_id": w.opslog.talant_entry},
                json={"text": "walk"},
                expect=201,
            ),
        ],
        ("GET", f"{API}/opslog/daily"): [
            Call(query=today),
            Call("Talant", query=today, expect=200),
        ],
        ("GET", f"{API}/opslog/verify"): [Call()],
    }


async def build_opslog(client: httpx.AsyncClient, admin: Person, w: World) -> Ops:
    """A Chenôve entry naming Chenôve's things, and a Talant one."""
    h = admin.headers
    links = {
        "asset_ids": [w.chenove_light],
        "alarm_ids": list(w.watch.chenove_alarms.values()),
        "intervention_ids": [w.watch.chenove_intervention],
        "report_ids": [w.reports.chenove_report],
        "command_ids": list(w.chenove_commands.values())[:1],
    }
    chenove = {**log_entry(CHENOVE, **links), "text": "mc-che-vitrine brisée"}
    made = ok(await client.post(f"{API}/opslog/entries", json=chenove, headers=h), 201)
    ok(
        await client.post(
            f"{API}/opslog/entries/{made['id']}/amendments",
            json={"text": "mc-che-vitrine"},
            headers=h,
        ),
        201,
    )
    talant = {**log_entry(TALANT), "text": "Rixe à Talant"}
    mine = ok(await client.post(f"{API}/opslog/entries", json=talant, headers=h), 201)
    return Ops(made["id"], mine["id"])


def opendata_plan() -> dict[tuple[str, str], list[Call]]:
    """Open data's administration: metropolis-wide, refused to any commune user (the
    public routes are in :data:`PUBLIC_ROUTES`)."""
    return {
        ("GET", f"{API}/opendata/keys"): [Call()],
        ("POST", f"{API}/opendata/keys"): [Call("hand out a key", json={"name": "walk"})],
        ("DELETE", f"{API}/opendata/keys/{{key_id}}"): [Call()],
        ("POST", f"{API}/opendata/datasets/{{dataset_id}}/refresh"): [Call()],
    }


EXPLORE = "/api/explore/v2.1"
# The public routes (no login): the same answer for everyone, nothing scoped or personal
# in it (test_public_routes_expose_nothing_scoped_or_personal walks them).
PUBLIC_ROUTES: dict[tuple[str, str], list[Call]] = {
    ("GET", f"{EXPLORE}/catalog/datasets"): [
        Call(query={"limit": "100"}),
        Call("search", query={"q": "éclairage"}),
    ],
    ("GET", f"{EXPLORE}/catalog/datasets/{{dataset_id}}"): [Call()],
    ("GET", f"{EXPLORE}/catalog/datasets/{{dataset_id}}/records"): [
        Call(query={"limit": "100"}),
        Call(
            "grouped", query={"select": "commune_code, count(*) as n", "group_by": "commune_code"}
        ),
    ],
    ("GET", f"{EXPLORE}/catalog/datasets/{{dataset_id}}/exports/{{format}}"): [Call()],
    ("GET", f"{EXPLORE}/catalog/exports/dcat.jsonld"): [Call()],
    ("GET", f"{EXPLORE}/catalog/exports/dcat.ttl"): [Call()],
    ("GET", "/api/datex2/v3/situations"): [Call(), Call("planned", query={"planned": "true"})],
}


LIGHT_STEPS = [{"anchor": "sunset", "level_pct": 100}, {"anchor": "sunrise", "level_pct": 0}]


def lighting_plan(w: World) -> dict[tuple[str, str], list[Call]]:
    """The routes of lighting programs, calendars, assignments and schedules."""
    lit = w.lighting
    metro_program = {"program_id": lit.metropolis_program}
    metro_calendar = {"calendar_id": lit.metropolis_calendar}
    program = {"name": "walk-program", "steps": LIGHT_STEPS}
    tal = lit.talant_calendar
    week = {"start": "2026-12-01", "days": "7"}

    def calendar_with(program_id: str | int) -> dict[str, Any]:
        return {"name": "walk-calendar", "commune": TALANT, "default_program_id": program_id}

    def assign(**target: Any) -> dict[str, Any]:
        return {"calendar_id": tal, **target}

    return {
        ("GET", f"{API}/lighting/programs"): [Call()],
        ("POST", f"{API}/lighting/programs"): [
            Call("in Chenôve", json={**program, "commune": CHENOVE}),
            Call("by name", json={**program, "commune": "Chenôve"}),
            Call("metropolis-wide", json=program),
        ],
        ("GET", f"{API}/lighting/programs/{{program_id}}"): [
            Call(),
            Call("metropolis-wide", path=metro_program, expect=200),
        ],
        ("PATCH", f"{API}/lighting/programs/{{program_id}}"): [
            Call(json={"version": 1, "description": "x"}),
            Call("metropolis-wide", path=metro_program, json={"version": 1, "steps": LIGHT_STEPS}),
        ],
        ("DELETE", f"{API}/lighting/programs/{{program_id}}"): [
            Call(),
            Call("metropolis-wide", path=metro_program),
        ],
        ("GET", f"{API}/lighting/calendars"): [Call()],
        ("POST", f"{API}/lighting/calendars"): [
            Call("in Chenôve", json={**calendar_with(lit.metropolis_program), "commune": CHENOVE}),
            Call(
                "metropolis-wide", json={**calendar_with(lit.metropolis_program), "commune": None}
            ),
            aimed("Chenôve program", "program_id", lit.chenove_program, calendar_with),
        ],
        ("GET", f"{API}/lighting/calendars/{{calendar_id}}"): [
            Call(),
            Call("metropolis-wide", path=metro_calendar, expect=200),
        ],
        ("PATCH", f"{API}/lighting/calendars/{{calendar_id}}"): [
            Call(json={"version": 1, "rules": []}),
            Call("metropolis-wide", path=metro_calendar, json={"version": 1, "rules": []}),
            Call(
                "Talant's, Chenôve program",
                path={"calendar_id": tal},
                json={"version": 1, "default_program_id": lit.chenove_program},
                twin=Twin(
                    lit.chenove_program,
                    GHOSTS["program_id"],
                    json={"version": 1, "default_program_id": GHOSTS["program_id"]},
                ),
            ),
        ],
        ("DELETE", f"{API}/lighting/calendars/{{calendar_id}}"): [
            Call(),
            Call("metropolis-wide", path=metro_calendar),
        ],
        ("GET", f"{API}/lighting/assignments"): [Call()],
        ("POST", f"{API}/lighting/assignments"): [
            aimed(
                "Chenôve cabinet",
                "asset_id",
                w.chenove_cabinet,
                lambda v: assign(target="cabinet", cabinet_id=v),
            ),
            Call("Chenôve", json=assign(target="commune", commune=CHENOVE)),
            Call("Chenôve by name", json=assign(target="commune", commune="Chenôve")),
            Call("the metropolis", json=assign(target="default")),
            Call("polygon", json=assign(target="polygon", polygon=box_polygon(CHENOVE_BOX))),
            Call(
                "polygon in Chenôve",
                json=assign(target="polygon", polygon=box_polygon(CHENOVE_BOX), commune=CHENOVE),
            ),
            aimed(
                "Chenôve group",
                "group_id",
                next(iter(w.foreign_groups.values())),
                lambda v: assign(target="group", group_id=v),
            ),
            aimed(
                "Chenôve calendar",
                "calendar_id",
                lit.chenove_calendar,
                lambda v: {"calendar_id": v, "target": "commune", "commune": TALANT},
            ),
            Call(
                "Talant cabinet",
                json=assign(target="cabinet", cabinet_id=w.talant_cabinet),
                expect=201,
            ),
        ],
        ("GET", f"{API}/lighting/assignments/{{assignment_id}}"): [Call()],
        ("PATCH", f"{API}/lighting/assignments/{{assignment_id}}"): [
            Call(json={"calendar_id": tal}),
        ],
        ("DELETE", f"{API}/lighting/assignments/{{assignment_id}}"): [Call()],
        ("GET", f"{API}/lighting/assets/{{asset_id}}/why"): [
            Call(),
            Call("Talant light", path={"asset_id": w.talant_light}, expect=200),
        ],
        ("GET", f"{API}/lighting/schedules"): [Call(), Call("Talant", expect=200)],
        ("GET", f"{API}/lighting/schedules/{{asset_id}}"): [Call()],
        # Compiles Talant's cabinets only; the snapshot checks Chenôve's schedules stay.
        ("POST", f"{API}/lighting/schedules/compile"): [Call("Talant", expect=200)],
        ("GET", f"{API}/lighting/calendars/{{calendar_id}}/days"): [
            Call(query=week),
            Call("metropolis-wide", path=metro_calendar, query=week, expect=200),
        ],
        # A preview changes nothing: aimed at Chenôve's position it is refused all the same.
        ("POST", f"{API}/lighting/preview"): [
            aimed("at Chenôve", "ref", CHENOVE, lambda v: {"steps": LIGHT_STEPS, "commune": v}),
            Call("at Talant", json={"steps": LIGHT_STEPS, "commune": TALANT}, expect=200),
        ],
        **override_plan(w),
    }


def override_plan(w: World) -> dict[tuple[str, str], list[Call]]:
    """The routes of lighting overrides: Chenôve's override is the target."""
    ends = (datetime.now(UTC) + timedelta(hours=2)).isoformat()

    def override(**target: Any) -> dict[str, Any]:
        return {"level_pct": 100, "ends_at": ends, "reason": "walk", **target}

    decision = {"reason": "walk"}
    return {
        ("GET", f"{API}/lighting/overrides"): [Call(), Call("active", query={"state": "active"})],
        ("GET", f"{API}/lighting/overrides/{{override_id}}"): [Call()],
        ("POST", f"{API}/lighting/overrides"): [
            aimed(
                "Chenôve cabinet",
                "asset_id",
                w.chenove_cabinet,
                lambda v: override(target="assets", asset_ids=[v]),
            ),
            aimed(
                "Chenôve light beside a Talant one",
                "asset_id",
                w.chenove_light,
                lambda v: override(target="assets", asset_ids=[w.talant_light, v]),
            ),
            Call("Chenôve", json=override(target="commune", commune=CHENOVE)),
            Call("Chenôve by name", json=override(target="commune", commune="Chenôve")),
            Call("the metropolis", json=override(target="metropolis")),
            Call(
                "polygon in Chenôve",
                json=override(target="polygon", polygon=box_polygon(CHENOVE_BOX)),
            ),
            aimed(
                "Chenôve group",
                "group_id",
                next(iter(w.foreign_groups.values())),
                lambda v: override(target="group", group_id=v),
            ),
            Call(
                "Talant cabinet",
                json=override(target="assets", asset_ids=[w.talant_cabinet]),
                expect=201,
            ),
        ],
        ("POST", f"{API}/lighting/overrides/{{override_id}}/approve"): [Call(json=decision)],
        ("POST", f"{API}/lighting/overrides/{{override_id}}/refuse"): [Call(json=decision)],
        ("POST", f"{API}/lighting/overrides/{{override_id}}/cancel"): [Call(json=decision)],
    }


def energy_plan(w: World) -> dict[tuple[str, str], list[Call]]:
    """The energy reports and maintenance lists: a Chenôve commune, cabinet or light named
    is refused as one that does not exist; unnamed, the sums and lists are Talant's alone
    (test_energy_report.py checks the figures)."""
    reports: dict[tuple[str, str], list[Call]] = {}
    for path in ("report", "report.csv"):
        reports[("GET", f"{API}/energy/{path}")] = [
            Call(),
            Call("per commune", query={"level": "commune"}),
            Call("per cabinet", query={"level": "cabinet"}),
            aimed("Chenôve", "ref", CHENOVE, lambda v: {"commune": str(v)}, in_query=True),
            aimed(
                "Chenôve cabinet",
                "asset_id",
                w.chenove_cabinet,
                lambda v: {"level": "cabinet", "cabinet": str(v)},
                in_query=True,
            ),
            aimed(
                "Chenôve light",
                "asset_id",
                w.chenove_light,
                lambda v: {"level": "light", "asset": str(v)},
                in_query=True,
            ),
            Call("Talant", query={"commune": TALANT}, expect=200),
        ]
    for path in ("maintenance/due", "maintenance/models"):
        for suffix in ("", ".csv"):
            reports[("GET", f"{API}/energy/{path}{suffix}")] = [
                Call(query={"share": "0.01"} if path.endswith("due") else {}, expect=200)
            ]
    return reports


def command_plan(w: World) -> dict[tuple[str, str], list[Call]]:
    """The routes of remote commands, aimed at Chenôve's equipment, commands and batches.

    Commands and batches that the walk creates are Talant's (the controls and the Talant
    batches brushing against Chenôve): the snapshot and :func:`command_problems` check
    that none of them reaches a Chenôve asset.
    """
    che = w.chenove_equipment
    why: dict[str, Any] = {"reason": "walk"}
    lights = [w.chenove_light, w.chenove_api_asset, w.moved_asset]
    bbox = ",".join(map(str, CHENOVE_BOX))

    def order(name: str, params: Mapping[str, Any] | None = None, **extra: Any) -> Build:
        """A command to one asset, given the asset's id."""
        return lambda a: {"asset_id": a, "name": name, "params": dict(params or {}), **extra}

    def dim(target: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
        """A batch dimming the lights of ``target``."""
        return {
            "type": "streetlight",
            "name": "dim",
            "params": {"level_pct": 10},
            "target": dict(target),
            **extra,
        }

    def to(kind: str, field_: str, wrap: bool = False) -> Build:
        """A dimming batch whose target (of ``kind``) is given by one value."""
        return lambda v: dim({"kind": kind, field_: [v] if wrap else v})

    def equipment(asset_type: str, name: str, params: Mapping[str, Any]) -> Build:
        """A batch commanding one piece of equipment, given its id."""
        return lambda a: {
            "type": asset_type,
            "name": name,
            "params": dict(params),
            "target": {"kind": "ids", "asset_ids": [a]},
            **why,
        }

    all_red = {"mode": "all_red", "revert_after_min": 5}
    tal_cmd = {k: {"command_id": v} for k, v in w.talant_commands.items()}
    tal_batch = {k: {"batch_id": v} for k, v in w.talant_batches.items()}
    a_chenove_command = next(iter(w.chenove_commands.values()))
    return {
        ("POST", f"{API}/commands"): [
            # Every Chenôve asset, one by one...
            *(
                aimed(f"dim {a}", "asset_id", a, order("dim", {"level_pct": 10}))
                for a in w.chenove_assets
            ),
            # ...and with the commands of its type, critical or not, with a reason or not.
            aimed(
                "circuit",
                "asset_id",
                w.chenove_cabinet,
                order("switch", {"circuit": 1, "on": False}),
            ),
            aimed(
                "cabinet mode", "asset_id", w.chenove_cabinet, order("set_mode", {"mode": "manual"})
            ),
            aimed("switch on", "asset_id", w.chenove_light, order("switch", {"on": True})),
            aimed("raise", "asset_id", che["bollard"], order("raise", **why)),
            aimed("lower, no reason", "asset_id", che["bollard"], order("lower")),
            aimed(
                "all red", "asset_id", che["traffic_controller"], order("set_mode", all_red, **why)
            ),
            aimed(
                "normal",
                "asset_id",
                che["traffic_controller"],
                order("set_mode", {"mode": "normal"}),
            ),
            aimed("plan", "asset_id", che["traffic_controller"], order("set_plan", {"plan": 2})),
            aimed("preset", "asset_id", che["camera"], order("goto_preset", {"preset": 2}, **why)),
            aimed(
                "stop recording",
                "asset_id",
                che["camera"],
                order("recording", {"on": False}, **why),
            ),
            aimed(
                "preset, no reason", "asset_id", che["camera"], order("goto_preset", {"preset": 2})
            ),
            Call("Talant light", json=order("dim", {"level_pct": 20})(w.talant_light), expect=201),
        ],
        ("GET", f"{API}/commands"): [
            Call(),
            aimed("by code", "ref", CHENOVE, lambda c: {"commune": c}, in_query=True),
            Call("by name", query={"commune": "Chenôve"}),
            *(
                aimed(f"asset {a}", "asset_id", a, lambda v: {"asset_id": v}, in_query=True)
                for a in (w.chenove_light, w.moved_asset, w.decommissioned_asset, *che.values())
            ),
            *(
                aimed(f"batch {k}", "batch_id", b, lambda v: {"batch_id": v}, in_query=True)
                for k, b in w.chenove_batches.items()
            ),
            # Its Talant children are Talant's: only they may show.
            *(Call(f"mixed batch {k}", query={"batch_id": b}) for k, b in w.mixed_batches.items()),
            Call("awaiting", query={"state": "awaiting_approval,queued,expired", "limit": "1000"}),
            Call("raise", query={"name": "raise"}),
            Call(
                "after a Chenôve command",
                query={"cursor": f"4102444800.000000~{a_chenove_command}"},
            ),
        ],
        ("GET", f"{API}/commands/{{command_id}}"): [
            Call(),
            Call("Talant", path=tal_cmd["dim"], expect=200),
        ],
        ("POST", f"{API}/commands/{{command_id}}/approve"): [
            Call(json=why),
            Call("no body"),
            Call("Talant", path=tal_cmd["to approve"], json=why, expect=200),
        ],
        ("POST", f"{API}/commands/{{command_id}}/deny"): [
            Call(json=why),
            Call("no reason", json={}),
            Call("Talant", path=tal_cmd["to deny"], json=why, expect=200),
        ],
        ("POST", f"{API}/commands/{{command_id}}/cancel"): [
            Call(json=why),
            Call("no body"),
            Call("Talant", path=tal_cmd["dim"], json=why, expect=200),
        ],
        ("GET", f"{API}/assets/{{asset_id}}/commands"): [
            Call(),
            Call("long", query={"limit": "1000"}),
            Call("Talant", path={"asset_id": w.talant_light}, expect=200),
        ],
        ("POST", f"{API}/command-batches"): [
            aimed(
                "a Chenôve light", "asset_id", w.chenove_light, to("ids", "asset_ids", wrap=True)
            ),
            aimed(
                "a Talant and a Chenôve light",
                "asset_id",
                w.chenove_light,
                lambda a: dim({"kind": "ids", "asset_ids": [w.talant_light, a]}),
            ),
            Call("Chenôve lights", json=dim({"kind": "ids", "asset_ids": lights})),
            aimed("the moved light", "asset_id", w.moved_asset, to("ids", "asset_ids", wrap=True)),
            aimed(
                "the retired light",
                "asset_id",
                w.decommissioned_asset,
                to("ids", "asset_ids", wrap=True),
            ),
            aimed("cabinet", "asset_id", w.chenove_cabinet, to("cabinet", "cabinet_id")),
            *(
                aimed(f"group {k}", "group_id", g, to("group", "group_id"))
                for k, g in w.foreign_groups.items()
            ),
            aimed("commune", "ref", CHENOVE, to("commune", "commune")),
            Call("commune by name", json=dim({"kind": "commune", "commune": "Chenôve"})),
            Call("commune upper case", json=dim({"kind": "commune", "commune": "CHENOVE"})),
            Call(
                "switch Chenôve off",
                json={
                    "type": "streetlight",
                    "name": "switch",
                    "params": {"on": False},
                    "target": {"kind": "commune", "commune": CHENOVE},
                    **why,
                },
            ),
            Call(
                "polygon over Chenôve",
                json=dim({"kind": "polygon", "polygon": box_polygon(CHENOVE_BOX)}),
            ),
            aimed("filter by commune", "ref", CHENOVE, to("filter", "communes", wrap=True)),
            Call("filter by cabinet", json=dim({"kind": "filter", "parent_id": w.chenove_cabinet})),
            Call("filter by bbox", json=dim({"kind": "filter", "bbox": bbox})),
            Call("filter by id", json=dim({"kind": "filter", "q": w.chenove_light})),
            Call(
                "filter retired",
                json=dim({"kind": "filter", "communes": [CHENOVE], "statuses": ["decommissioned"]}),
            ),
            Call(
                "Chenôve cabinets",
                json={
                    "type": "lighting_cabinet",
                    "name": "set_mode",
                    "params": {"mode": "manual"},
                    "target": {"kind": "commune", "commune": CHENOVE},
                },
            ),
            aimed("bollard", "asset_id", che["bollard"], equipment("bollard", "raise", {})),
            aimed(
                "controller",
                "asset_id",
                che["traffic_controller"],
                equipment("traffic_controller", "set_mode", all_red),
            ),
            aimed(
                "camera",
                "asset_id",
                che["camera"],
                equipment("camera", "goto_preset", {"preset": 1}),
            ),
            # Talant's own batches brushing against Chenôve: only Talant's lights are theirs.
            Call(
                "Talant cabinet",
                json=dim({"kind": "cabinet", "cabinet_id": w.talant_cabinet}),
                expect=201,
            ),
            Call(
                "Talant polygon over both",
                json=dim({"kind": "polygon", "polygon": box_polygon(BOTH_COMMUNES_BOX)}),
                expect=201,
            ),
            Call(
                "Talant filter over both",
                json=dim({"kind": "filter", "bbox": ",".join(map(str, BOTH_COMMUNES_BOX))}),
                expect=201,
            ),
            # It still lists the light moved to Chenôve.
            Call(
                "Talant list group",
                json=dim({"kind": "group", "group_id": w.talant_list_group}),
                expect=201,
            ),
            Call(
                "Talant zone group",
                json=dim({"kind": "group", "group_id": w.talant_polygon_group}),
                expect=201,
            ),
        ],
        ("GET", f"{API}/command-batches"): [Call(), Call("long", query={"limit": "500"})],
        ("GET", f"{API}/command-batches/{{batch_id}}"): [
            Call(),
            Call("Talant", path=tal_batch["to cancel"], expect=200),
        ],
        ("GET", f"{API}/command-batches/{{batch_id}}/commands"): [
            Call(),
            Call("by state", query={"state": "awaiting_approval,queued,expired", "limit": "1000"}),
            Call("Talant", path=tal_batch["to cancel"], expect=200),
        ],
        ("POST", f"{API}/command-batches/{{batch_id}}/approve"): [
            Call(json=why),
            Call("no body"),
            Call("Talant", path=tal_batch["to approve"], json=why, expect=200),
        ],
        ("POST", f"{API}/command-batches/{{batch_id}}/deny"): [
            Call(json=why),
            Call("no reason", json={}),
            Call("Talant", path=tal_batch["to deny"], json=why, expect=200),
        ],
        ("POST", f"{API}/command-batches/{{batch_id}}/cancel"): [
            Call(json=why),
            Call("no body"),
            Call("Talant", path=tal_batch["to cancel"], json=why, expect=200),
        ],
        ("POST", f"{API}/command-batches/{{batch_id}}/retry"): [
            Call(json=why),
            Call("no body"),
            Call("Talant", path=tal_batch["to retry"], json=why, expect=201),
        ],
    }


# Photos are checked by their first bytes; Chenôve's differs from Talant's, whose digest
# would otherwise be Chenôve's marker too.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64
CHENOVE_PNG = b"\x89PNG\r\n\x1a\n" + b"\x02" * 64
PNG_HEADERS = {"Content-Type": "image/png"}
# Routes send to a loopback port nobody listens on: a test delivery fails at once.
DEAD_HOOK = "http://127.0.0.1:9/"
ALL_ALARM_STATES = (
    "active_unacknowledged,active_acknowledged,cleared_unacknowledged,cleared_acknowledged"
)
ALL_STATUSES = "new,assigned,in_progress,on_hold,resolved,closed,cancelled"
FOREVER = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}


def rule_body(key: str, communes: list[str] | None, **extra: Any) -> dict[str, Any]:
    """A threshold rule on streetlights."""
    return {
        "key": key,
        "name": f"Règle {key}",
        "kind": "threshold",
        "asset_type": "streetlight",
        "communes": communes,
        "params": {"key": "power_w", "op": ">", "value": 100, "clear_value": 80},
        **extra,
    }


def route_body(name: str, communes: list[str] | None, **extra: Any) -> dict[str, Any]:
    """A webhook notification route."""
    hook = f"{DEAD_HOOK}{name}-hook"
    return {"name": name, "channel": "webhook", "target": hook, "communes": communes, **extra}


def team_body(name: str, communes: list[str]) -> dict[str, Any]:
    """A lighting team."""
    return {"name": name, "categories": ["lighting", "roads"], "communes": communes}


def work_body(**extra: Any) -> dict[str, Any]:
    """An intervention opened by hand."""
    return {"category": "lighting", "title": "it-walk", **extra}


def watch_plan(w: World) -> dict[tuple[str, str], list[Call]]:
    """The routes of alarms, monitoring rules, notifications, teams, interventions,
    intervention policies and KPIs, aimed at Chenôve's.

    What the walk creates for Talant (controls) stays Talant's: the snapshot proves that
    no Chenôve row changed, and :func:`watch_problems` reads the listings afterwards.
    """
    x = w.watch
    ta, tr, tt = x.talant_alarms, x.talant_rules, x.talant_routes
    che_rule_key = "rg-che-surtension"
    che_alarm = x.chenove_alarms["light"]
    che_team = x.chenove_teams["chenove"]
    tal_team = x.talant_teams["talant"]
    tal_work = {"intervention_id": x.talant_intervention}
    why = {"reason": "walk"}

    def alarm(label: str) -> dict[str, str | int]:
        return {"alarm_id": ta[label]}

    def rule(label: str) -> dict[str, str | int]:
        return {"rule_id": tr[label]}

    def route(label: str) -> dict[str, str | int]:
        return {"route_id": tt[label]}

    def pinned(call: Call, **path: str | int) -> Call:
        return replace(call, path=path)

    metro = {"rule_id": x.metropolis_rule}
    team = {"team_id": tal_team}
    return {
        # --- alarms ---
        ("GET", f"{API}/alarms"): [
            Call(),
            Call(
                "every state",
                query={"state": ALL_ALARM_STATES, "grouped": "true", "shelved": "true"},
            ),
            Call("by code", query={"commune": CHENOVE, "state": ALL_ALARM_STATES}),
            Call("by name", query={"commune": "Chenôve"}),
            aimed(
                "asset",
                "asset_id",
                w.chenove_light,
                lambda a: {"asset_id": a, "grouped": "true", "state": ALL_ALARM_STATES},
                in_query=True,
            ),
            aimed(
                "grouped under",
                "alarm_id",
                x.chenove_alarms["cabinet"],
                lambda v: {"parent_id": str(v)},
                in_query=True,
            ),
            Call("assigned", query={"assigned_to": w.chenove_user, "grouped": "true"}),
            Call("cursor", query={"cursor": keyset.encode([999999999]), "limit": "1000"}),
        ],
        ("GET", f"{API}/alarms/summary"): [Call()],
        ("GET", f"{API}/alarms/{{alarm_id}}"): [
            Call(),
            Call("Talant", path=alarm("comment"), expect=200),
        ],
        ("POST", f"{API}/alarms/{{alarm_id}}/acknowledge"): [
            Call(json={"text": "walk"}),
            Call("no body"),
            Call("Talant", path=alarm("acknowledge"), json={"text": "walk"}, expect=200),
        ],
        ("POST", f"{API}/alarms/{{alarm_id}}/comments"): [
            Call(json={"text": "walk"}),
            Call("Talant", path=alarm("comment"), json={"text": "walk"}, expect=200),
        ],
        ("POST", f"{API}/alarms/{{alarm_id}}/assign"): [
            Call(json={"user": w.talant_colleague}),
            Call("take back", json={"user": None}),
            Call("Talant", path=alarm("assign"), json={"user": w.talant_colleague}, expect=200),
            # Whether Chenôve's user exists must not show either.
            pinned(
                aimed("to Chenôve's user", "username", w.chenove_user, lambda u: {"user": u}),
                **alarm("assign"),
            ),
        ],
        ("POST", f"{API}/alarms/{{alarm_id}}/shelve"): [
            Call(json={"minutes": 10, **why}),
            Call("Talant", path=alarm("shelve"), json={"minutes": 10, **why}, expect=200),
        ],
        ("POST", f"{API}/alarms/{{alarm_id}}/unshelve"): [
            Call(),
            Call("Talant", path=alarm("unshelve"), expect=200),
        ],
        ("POST", f"{API}/alarms/{{alarm_id}}/clear"): [
            Call(json=why),
            Call("Talant", path=alarm("clear"), json=why, expect=200),
        ],
        # --- monitoring rules ---
        ("GET", f"{API}/rules"): [
            Call(),
            Call("lights", query={"asset_type": "streetlight"}),
            Call("disabled", query={"enabled": "false"}),
        ],
        ("POST", f"{API}/rules"): [
            Call("Chenôve", json=rule_body("rg-walk-1", [CHENOVE])),
            Call("by name", json=rule_body("rg-walk-2", ["Chenôve"])),
            Call("both", json=rule_body("rg-walk-3", [TALANT, CHENOVE])),
            Call("every commune", json=rule_body("rg-walk-4", None)),
            Call("Chenôve's key", json=rule_body(che_rule_key, [TALANT])),
            Call("Talant", json=rule_body("rg-walk-tal", [TALANT]), expect=201),
        ],
        ("GET", f"{API}/rules/{{rule_id}}"): [
            Call(),
            Call("Talant", path=rule("on"), expect=200),
            Call("metropolis-wide", path=metro, expect=200),
        ],
        ("GET", f"{API}/rules/{{rule_id}}/versions"): [
            Call(),
            Call("Talant", path=rule("on"), expect=200),
            Call("metropolis-wide", path=metro, expect=200),
        ],
        ("PUT", f"{API}/rules/{{rule_id}}"): [
            Call("pull into Talant", json=rule_body("rg-walk-5", [TALANT], version=1)),
            Call(
                "metropolis-wide", path=metro, json=rule_body("rg-metro-silence", None, version=1)
            ),
            Call(
                "metropolis-wide into Talant",
                path=metro,
                json=rule_body("rg-metro-silence", [TALANT], version=1),
            ),
            Call(
                "Talant's to Chenôve",
                path=rule("on"),
                json=rule_body("rg-tal-surtension", [CHENOVE], version=1),
            ),
            Call(
                "Talant's to both",
                path=rule("on"),
                json=rule_body("rg-tal-surtension", [TALANT, "Chenôve"], version=1),
            ),
            Call(
                "Talant's to Chenôve's key",
                path=rule("on"),
                json=rule_body(che_rule_key, [TALANT], version=1),
            ),
            Call(
                "Talant",
                path=rule("on"),
                json=rule_body("rg-tal-surtension", [TALANT], version=1, severity="minor"),
                expect=200,
            ),
        ],
        ("DELETE", f"{API}/rules/{{rule_id}}"): [
            Call(),
            Call("with a version", query={"version": "1", "reason": "walk"}),
            Call("metropolis-wide", path=metro),
            Call("Talant", path=rule("to delete"), expect=204),
        ],
        ("POST", f"{API}/rules/{{rule_id}}/enable"): [
            Call(json={}),
            Call("no body"),
            Call("with a version", json={"version": 1, "reason": "walk"}),
            Call("metropolis-wide", path=metro, json={}),
            Call("Talant", path=rule("off"), json={"version": 1}, expect=200),
        ],
        # --- notifications ---
        ("GET", f"{API}/notification-routes"): [Call()],
        ("POST", f"{API}/notification-routes"): [
            Call("Chenôve", json=route_body("nr-walk-1", [CHENOVE])),
            Call("by name", json=route_body("nr-walk-2", ["Chenôve"])),
            Call("both", json=route_body("nr-walk-3", [TALANT, CHENOVE])),
            Call("every commune", json=route_body("nr-walk-4", None)),
            Call("Chenôve's name", json=route_body("nr-che-astreinte", [TALANT])),
            Call("Talant", json=route_body("nr-walk-tal", [TALANT]), expect=201),
        ],
        ("GET", f"{API}/notification-routes/{{route_id}}"): [
            Call(),
            Call("Talant", path=route("on"), expect=200),
        ],
        ("PATCH", f"{API}/notification-routes/{{route_id}}"): [
            Call("rename", json={"version": 1, "name": "nr-walk-5"}),
            Call("disable", json={"version": 1, "enabled": False}),
            Call("pull into Talant", json={"version": 1, "communes": [TALANT]}),
            Call(
                "Talant's to Chenôve", path=route("on"), json={"version": 1, "communes": [CHENOVE]}
            ),
            Call(
                "Talant's to both",
                path=route("on"),
                json={"version": 1, "communes": [TALANT, "Chenôve"]},
            ),
            Call("Talant's everywhere", path=route("on"), json={"version": 1, "communes": None}),
            Call(
                "Talant's to Chenôve's name",
                path=route("on"),
                json={"version": 1, "name": "nr-che-astreinte"},
            ),
            Call("Talant", path=route("on"), json={"version": 1, "days": [1, 2, 3]}, expect=200),
        ],
        ("DELETE", f"{API}/notification-routes/{{route_id}}"): [
            Call(),
            Call("Talant", path=route("to delete"), expect=204),
        ],
        ("POST", f"{API}/notification-routes/{{route_id}}/test"): [
            Call(),
            Call("Talant", path=route("on"), expect=200),
        ],
        ("GET", f"{API}/notification-deliveries"): [
            Call(),
            Call("long", query={"limit": "1000"}),
            Call("failed", query={"state": "failed"}),
            Call("before", query={"before_id": str(2**62)}),
            *(
                aimed(f"route {k}", "route_id", r, lambda v: {"route_id": str(v)}, in_query=True)
                for k, r in x.chenove_routes.items()
            ),
            aimed("alarm", "alarm_id", che_alarm, lambda v: {"alarm_id": str(v)}, in_query=True),
        ],
        # --- teams ---
        ("GET", f"{API}/teams"): [Call()],
        ("POST", f"{API}/teams"): [
            Call("Chenôve", json=team_body("eq-walk-1", [CHENOVE])),
            Call("by name", json=team_body("eq-walk-2", ["Chenôve"])),
            Call("both", json=team_body("eq-walk-3", [TALANT, CHENOVE])),
            Call("Chenôve's name", json=team_body("eq-che-voirie", [TALANT])),
            Call("Talant", json=team_body("eq-walk-tal", [TALANT]), expect=201),
        ],
        ("GET", f"{API}/teams/{{team_id}}"): [
            Call(),
            Call("Talant", path=team, expect=200),
        ],
        ("PATCH", f"{API}/teams/{{team_id}}"): [
            Call("rename", json={"name": "eq-walk-4"}),
            Call("pull into Talant", json={"communes": [TALANT]}),
            Call("Talant's to both", path=team, json={"communes": [TALANT, CHENOVE]}),
            Call("Talant's to Chenôve", path=team, json={"communes": ["Chenôve"]}),
            Call("Talant's to Chenôve's name", path=team, json={"name": "eq-che-voirie"}),
            Call("Talant", path=team, json={"categories": ["lighting"]}, expect=200),
        ],
        ("DELETE", f"{API}/teams/{{team_id}}"): [
            Call(),
            Call("Talant", path={"team_id": x.talant_teams["to delete"]}, expect=204),
        ],
        ("POST", f"{API}/teams/{{team_id}}/members"): [
            Call(json={"user_id": x.talant_colleague_id}),
            # Chenôve's user must not join a Talant team (nor show in it).
            pinned(
                aimed(
                    "Chenôve's user into Talant's",
                    "user_id",
                    x.chenove_user_id,
                    lambda u: {"user_id": u},
                ),
                **team,
            ),
            Call("Talant", path=team, json={"user_id": x.talant_colleague_id}, expect=201),
        ],
        ("DELETE", f"{API}/teams/{{team_id}}/members/{{user_id}}"): [
            Call("Chenôve's user", path={"user_id": x.chenove_user_id}),
            Call("Talant colleague", path={"user_id": x.talant_colleague_id}),
            Call("Chenôve's user from Talant's", path=team),
            Call("Talant", path={**team, "user_id": x.talant_colleague_id}, expect=200),
        ],
        # --- interventions ---
        ("POST", f"{API}/interventions"): [
            Call("in Chenôve", json=work_body(commune=CHENOVE)),
            Call("by name", json=work_body(commune="Chenôve")),
            aimed(
                "on a Chenôve asset", "asset_id", w.chenove_light, lambda a: work_body(asset_id=a)
            ),
            aimed("on the moved light", "asset_id", w.moved_asset, lambda a: work_body(asset_id=a)),
            Call(
                "Talant asset in Chenôve", json=work_body(asset_id=w.talant_light, commune=CHENOVE)
            ),
            aimed(
                "Talant's, Chenôve asset linked",
                "asset_id",
                w.chenove_light,
                lambda a: work_body(commune=TALANT, asset_ids=[a]),
            ),
            aimed(
                "Talant's, Chenôve alarm linked",
                "alarm_id",
                che_alarm,
                lambda a: work_body(commune=TALANT, alarm_ids=[a]),
            ),
            # (A team over Talant and Chenôve covers Talant: its work may go to it.)
            aimed(
                "Talant's, Chenôve's team",
                "team_id",
                che_team,
                lambda v: work_body(commune=TALANT, team_id=v),
            ),
            aimed(
                "Talant's, Chenôve's user",
                "user_id",
                x.chenove_user_id,
                lambda u: work_body(commune=TALANT, team_id=tal_team, assignee_id=u),
            ),
            Call(
                "Talant",
                json=work_body(commune=TALANT, team_id=tal_team, title="it-walk-tal"),
                expect=201,
            ),
        ],
        ("GET", f"{API}/interventions"): [
            Call(),
            Call("every status", query={"status": ALL_STATUSES, "limit": "1000"}),
            Call("by code", query={"commune": CHENOVE}),
            Call("both", query={"commune": f"{TALANT},{CHENOVE}"}),
            aimed("asset", "asset_id", w.chenove_light, lambda a: {"asset_id": a}, in_query=True),
            aimed("team", "team_id", che_team, lambda t: {"team_id": str(t)}, in_query=True),
            Call("open", query={"open": "true", "mine": "false"}),
            Call("cursor", query={"cursor": keyset.encode([2**31 - 1])}),
        ],
        ("GET", f"{API}/interventions/queue"): [Call(), Call("mine", query={"mine": "true"})],
        ("GET", f"{API}/interventions/{{intervention_id}}"): [
            Call(),
            Call("Talant", path=tal_work, expect=200),
        ],
        ("PATCH", f"{API}/interventions/{{intervention_id}}"): [
            Call("retitle", json={"title": "x"}),
            Call("reprioritise", json={"priority": "critical", **why}),
            Call("Talant", path=tal_work, json={"description": "walk"}, expect=200),
        ],
        ("POST", f"{API}/interventions/{{intervention_id}}/assign"): [
            Call("to Talant's team", json={"team_id": tal_team}),
            Call("to its team", json={"team_id": che_team}),
            pinned(
                aimed("Talant's to Chenôve's team", "team_id", che_team, lambda v: {"team_id": v}),
                **tal_work,
            ),
            Call("Talant", path=tal_work, json={"team_id": tal_team, **why}, expect=200),
        ],
        ("POST", f"{API}/interventions/{{intervention_id}}/status"): [
            Call("start", json={"status": "in_progress"}),
            Call("cancel", json={"status": "cancelled", **why}),
            Call("Talant", path=tal_work, json={"status": "in_progress"}, expect=200),
        ],
        ("POST", f"{API}/interventions/{{intervention_id}}/notes"): [
            Call(json={"text": "walk"}),
            Call("Talant", path=tal_work, json={"text": "walk"}, expect=201),
        ],
        ("POST", f"{API}/interventions/{{intervention_id}}/links"): [
            Call("Talant asset", json={"asset_ids": [w.talant_light]}),
            pinned(
                aimed(
                    "Talant's, Chenôve asset",
                    "asset_id",
                    w.chenove_light,
                    lambda a: {"asset_ids": [a]},
                ),
                **tal_work,
            ),
            pinned(
                aimed(
                    "Talant's, Chenôve alarm", "alarm_id", che_alarm, lambda a: {"alarm_ids": [a]}
                ),
                **tal_work,
            ),
            Call("Talant", path=tal_work, json={"alarm_ids": [ta["comment"]]}, expect=200),
        ],
        ("POST", f"{API}/interventions/{{intervention_id}}/photos"): [
            Call(content=PNG, headers=PNG_HEADERS),
            Call("Talant", path=tal_work, content=PNG, headers=PNG_HEADERS, expect=201),
        ],
        ("GET", f"{API}/interventions/{{intervention_id}}/photos/{{photo_id}}"): [
            Call(path={"photo_id": x.chenove_photo}),
            Call("Chenôve's through Talant's", path=tal_work),
            Call("Talant", path={**tal_work, "photo_id": x.talant_photo}, expect=200),
        ],
        # --- intervention policies (metropolis-wide: read by all, changed by none here) ---
        ("GET", f"{API}/intervention-policies"): [Call()],
        ("POST", f"{API}/intervention-policies"): [
            Call(json={"alarm_type": "walk", "category": "lighting", "priority": "high"}),
            aimed(
                "Chenôve's team",
                "team_id",
                che_team,
                lambda t: {
                    "alarm_type": "walk",
                    "category": "lighting",
                    "priority": "high",
                    "team_id": t,
                },
            ),
        ],
        ("GET", f"{API}/intervention-policies/{{policy_id}}"): [
            Call("metropolis-wide", path={"policy_id": x.policy}, expect=200),
        ],
        ("PATCH", f"{API}/intervention-policies/{{policy_id}}"): [
            Call(json={"enabled": False}),
            Call("Talant's team", json={"team_id": tal_team}),
        ],
        ("DELETE", f"{API}/intervention-policies/{{policy_id}}"): [Call()],
        # --- KPIs ---
        ("GET", f"{API}/kpis"): [
            Call(query=FOREVER),
            *(
                Call(f"by {by}", query={**FOREVER, "by": by})
                for by in ("commune", "team", "category")
            ),
        ],
    }


# --- routes and coverage -----------------------------------------------------------------


def api_routes(app: FastAPI) -> dict[tuple[str, str], bool]:
    """Every (method, path) of the API, and whether it reads a request body.

    That is everything under ``/api/v1`` and the operational routes beside it (health,
    metrics); only the OpenAPI document and its viewer, which hold no data, are left out.

    From ``app.routes`` (flattened through included routers, which recent FastAPI keeps
    lazily) and from the OpenAPI document as a cross-check, so neither a route hidden from
    the schema nor a change in FastAPI's route objects can shrink the walk unnoticed.
    """
    out: dict[tuple[str, str], bool] = {}
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    for entry in flatten(app.routes) if flatten is not None else app.routes:
        route = getattr(entry, "original_route", entry)
        path = getattr(entry, "path", "")
        if isinstance(route, APIRoute):
            for method in route.methods or ():
                out[(method, path)] = takes_body(route)
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            key = (method.upper(), path)
            out[key] = out.get(key, False) or "requestBody" in operation
    return out


def path_params(path: str) -> list[str]:
    """The parameter names of a route path (``/assets/{asset_id}`` gives ``asset_id``)."""
    return re.findall(r"{(\w+)(?::\w+)?}", path)


def takes_body(route: APIRoute) -> bool:
    """Whether a route reads a request body (a model, or a raw stream declared in OpenAPI)."""
    extra = route.openapi_extra or {}
    return route.body_field is not None or "requestBody" in extra


def coverage_problems(
    app: FastAPI, plan: Mapping[tuple[str, str], Sequence[Call]], values: Mapping[str, Any]
) -> list[str]:
    """Why the tables do not cover the application's routes (empty when they do)."""
    routes = api_routes(app)
    public = set(PUBLIC_ROUTES)
    problems = [
        f"{m} {p}: no entry in walk_plan() - say how to aim it at Chenôve (or, public, "
        "in PUBLIC_ROUTES)"
        for m, p in sorted(set(routes) - set(plan) - public - EXPLICIT)
    ]
    problems += [
        f"{m} {p}: in PUBLIC_ROUTES but not in the app" for m, p in sorted(public - set(routes))
    ]
    problems += [f"{m} {p}: both public and walked" for m, p in sorted(public & set(plan))]
    problems += [
        f"{m} {p}: in walk_plan() but not in the app" for m, p in sorted(set(plan) - set(routes))
    ]
    for (method, path), calls in sorted(plan.items()):
        if (method, path) not in routes:
            continue
        if not calls:
            problems.append(f"{method} {path}: no calls")
        problems += [
            f"{method} {path}: no foreign values for path parameter {name!r}"
            for name in path_params(path)
            if name not in values
        ]
        if routes[(method, path)] and not any(c.has_body for c in calls):
            problems.append(f"{method} {path}: takes a body but no call sends one")
    return problems


def test_the_walk_covers_every_route() -> None:
    """Fails as soon as a route is added without saying how the walk reaches it."""
    dummy = World(
        chenove_assets=("a",),
        chenove_cabinet="a",
        chenove_light="a",
        chenove_api_asset="a",
        moved_asset="a",
        decommissioned_asset="a",
        talant_cabinet="t",
        talant_light="t",
        foreign_groups={"g": 1},
        talant_list_group=2,
        talant_polygon_group=3,
        chenove_user="u",
        bi_communal_user="u",
        talant_colleague="t",
        actor="t",
        foreign_tokens={"u": 1},
        foreign_token_prefixes=(),
        talant_device_secret="s",
        chenove_equipment=dict.fromkeys(EQUIPMENT, "a"),
        chenove_commands={"c": "c"},
        chenove_command_ids=("c",),
        chenove_batches={"b": "b"},
        mixed_batches={"m": "m"},
        talant_commands=dict.fromkeys(("dim", "to approve", "to deny"), "c"),
        talant_batches=dict.fromkeys(("to approve", "to deny", "to cancel", "to retry"), "b"),
        watch=Watch(
            chenove_alarms={"light": 1, "cabinet": 2},
            talant_alarms=dict.fromkeys(
                ("acknowledge", "assign", "clear", "comment", "shelve", "unshelve"), 3
            ),
            chenove_rules={"chenove": 1},
            talant_rules=dict.fromkeys(("on", "off", "to delete"), 2),
            metropolis_rule=3,
            chenove_routes={"chenove": 1},
            talant_routes=dict.fromkeys(("on", "to delete"), 2),
            chenove_teams={"chenove": 1},
            talant_teams=dict.fromkeys(("talant", "to delete"), 2),
            chenove_intervention=1,
            chenove_photo=1,
            talant_intervention=2,
            talant_photo=2,
            policy=1,
            chenove_user_id=1,
            talant_colleague_id=2,
            markers=(),
        ),
    )
    app = create_app()
    problems = coverage_problems(app, walk_plan(dummy), foreign_values(dummy))
    assert not problems, "\n".join(problems)


# --- markers: what must never show --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Markers:
    """Strings that betray Chenôve, in groups of equivalent spellings (lower case).

    A marker the request itself carried may come back (an error that names the refused
    commune or id is an echo, not a leak); every other marker is a leak.
    """

    groups: tuple[tuple[str, ...], ...]

    def found(self, text_: str) -> set[str]:
        """The first spelling of each group present in ``text_``."""
        low = text_.lower()
        return {g[0] for g in self.groups if any(s in low for s in g)}


def markers_of(w: World) -> Markers:
    """Every Chenôve (and other out-of-scope) string setup created."""
    groups: list[tuple[str, ...]] = [(CHENOVE, "chenôve")]
    groups += [(a.lower(),) for a in w.chenove_assets]
    groups += [(name.lower(),) for name in w.foreign_groups]
    groups += [(w.chenove_user,), (w.bi_communal_user,)]
    groups += [(p.lower(),) for p in (*w.foreign_token_prefixes, *w.foreign_people)]
    # Chenôve's commands and batches. A batch over both communes is not a marker: its id
    # is on its Talant children, which are Talant's (command_problems checks it is hidden).
    groups += [(c,) for c in (*w.chenove_command_ids, *w.chenove_batches.values())]
    groups += [(m.lower(),) for m in w.watch.markers]
    groups += [(m.lower(),) for m in w.reports.personal]
    groups += [(m.lower(),) for m in w.roads.markers]
    groups += [(m.lower(),) for m in w.opslog.markers]
    groups += [(m.lower(),) for m in w.plans.markers]
    groups += [(m.lower(),) for m in w.vehicles.markers]
    return Markers(tuple(groups))


def response_text(response: httpx.Response) -> str:
    """Everything a client can read of a response: headers, raw body, decoded JSON."""
    parts = [f"{k}: {unquote(v)}" for k, v in response.headers.items()]
    parts += [response.text, unquote(response.text)]
    # \u escapes in JSON would hide "Chenôve" from a plain substring search.
    with contextlib.suppress(ValueError):
        parts.append(json.dumps(response.json(), ensure_ascii=False))
    return "\n".join(parts)


def request_text(request: httpx.Request) -> str:
    """Everything the caller sent: URL (decoded) and body (decoded)."""
    body = request.content.decode("utf-8", "replace")
    parts = [unquote(str(request.url)), body]
    with contextlib.suppress(ValueError):
        parts.append(json.dumps(json.loads(body), ensure_ascii=False))
    return "\n".join(parts)


def leaks(markers: Markers, response: httpx.Response) -> set[str]:
    """Markers in the answer that the request did not carry."""
    return markers.found(response_text(response)) - markers.found(request_text(response.request))


def normalised(response: httpx.Response, value: str | int) -> Any:
    """The answer with ``value`` (a path parameter) replaced, to compare with a ghost's."""
    if isinstance(value, int):
        pattern = re.compile(rf"\b{value}\b")
    else:
        spellings = sorted({str(value), quote(str(value), safe=""), quote(str(value))}, key=len)
        pattern = re.compile("|".join(re.escape(s) for s in reversed(spellings)))

    def scrub(item: Any) -> Any:
        if isinstance(item, str):
            return pattern.sub("<ID>", item)
        if isinstance(item, list):
            return [scrub(i) for i in item]
        if isinstance(item, dict):
            return {k: scrub(v) for k, v in item.items()}
        return item

    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        # A problem's instance is the URL the caller sent: it tells nothing, and other ids
        # in it (a user 2 beside a team 2) would make twins differ for no reason.
        body.pop("instance", None)
    return response.status_code, scrub(body)


# --- setup --------------------------------------------------------------------------------


def fleet() -> list[AssetCreate]:
    """A small generated Dijon fleet: every commune, each cabinet followed by its lights."""
    return list(generate_fleet("dijon", scale=0.01, seed=1))


async def report(runtime: Runtime, device_id: str, channel: Channel, payload: Any) -> None:
    """Store one device message the way the gateway does (decode, then the store)."""
    directory = DeviceDirectory()
    await directory.refresh(runtime.db)
    root = runtime.settings.mqtt_root
    topic = topics.build(Topic(channel, device_id), root)
    decoded = decode(topic, orjson.dumps(payload), directory, received_at=utcnow(), root=root)
    assert not isinstance(decoded, Rejection), decoded
    batch = Batch()
    batch.add(decoded)
    await TelemetryStore(runtime.db).write(batch)


async def report_all(runtime: Runtime, device_id: str, commune: str) -> None:
    """Telemetry, a fault and a status (its firmware names the commune) of one device."""
    await report(runtime, device_id, Channel.TELEMETRY, {"values": {"level_pct": 70}})
    await report(runtime, device_id, Channel.EVENTS, {"code": "lampFailure", "active": True})
    await report(runtime, device_id, Channel.STATUS, {"online": True, "firmware": f"fw-{commune}"})


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    """The JSON of a setup call that must succeed."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


TALANT_BOLLARD = "BOL-TAL-01"
AWAITING = "awaiting_approval"


def ids(*asset_ids: str) -> dict[str, Any]:
    """A batch target naming its assets."""
    return {"kind": "ids", "asset_ids": list(asset_ids)}


@dataclass(frozen=True, slots=True)
class Orders:
    """Commands and batches made through the API for setup (by the administrator unless
    other ``headers`` are given); each call returns the new id."""

    client: httpx.AsyncClient
    headers: Mapping[str, str]

    async def command(
        self,
        asset_id: str,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        reason: str | None = None,
        state: str = "queued",
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """A command to one asset, which must end in ``state``."""
        body = {"asset_id": asset_id, "name": name, "params": dict(params or {}), "reason": reason}
        response = await self.client.post(
            f"{API}/commands", json=body, headers=headers or self.headers
        )
        out = ok(response, 201)
        assert out["state"] == state, out
        return str(out["id"])

    async def batch(self, state: str = "running", **body: Any) -> str:
        """A group command, which must end in ``state``."""
        response = await self.client.post(f"{API}/command-batches", json=body, headers=self.headers)
        out = ok(response, 201)
        assert out["state"] == state, out
        return str(out["id"])

    async def child(self, batch_id: str, commune: str) -> str:
        """A child of a batch in ``commune``."""
        url = f"{API}/command-batches/{batch_id}/commands"
        page = ok(await self.client.get(url, headers=self.headers))
        return next(str(c["id"]) for c in page["items"] if c["commune"] == commune)


async def build_world(client: httpx.AsyncClient, system: Context, admin: Person) -> World:
    """Chenôve's things, and Talant's, made the way people make them (mostly the API)."""
    items = fleet()
    await importing.import_assets(system, list(enumerate(items, 1)), source="tests")
    by_commune: dict[str, list[AssetCreate]] = {}
    for item in items:
        by_commune.setdefault(item.commune, []).append(item)
    chenove, talant = by_commune[CHENOVE], by_commune[TALANT]
    che_cabinet = next(a.id for a in chenove if a.type == "lighting_cabinet")
    che_lights = [a.id for a in chenove if a.parent_id == che_cabinet]
    tal_cabinet = next(a.id for a in talant if a.type == "lighting_cabinet")
    tal_lights = [a.id for a in talant if a.parent_id == tal_cabinet]
    assert len(che_lights) >= 5, "the fleet needs Chenôve lights"
    assert len(tal_lights) >= 5, "the fleet needs Talant lights"

    h = admin.headers
    api = f"{API}/assets"
    # Writes through the API leave audit entries in Chenôve.
    ok(
        await client.post(api, json=light_body("SL-CHE-API-1", "Chenôve", che_cabinet), headers=h),
        201,
    )
    ok(await client.patch(f"{api}/{che_lights[0]}", json={"name": "Rue Roosevelt"}, headers=h))
    ok(await client.post(f"{api}/{che_lights[-1]}/decommission", json={"reason": "hit"}, headers=h))
    # A Talant light in a Talant group, then moved to Chenôve: the group keeps a member
    # the Talant user must no longer see.
    moved = "SL-TAL-MOVED"
    await importing.import_assets(system, [(1, AssetCreate(**light_body(moved, TALANT)))])

    groups = f"{API}/groups"
    tal_list = ok(
        await client.post(
            groups,
            json={
                "name": "grp-tal-liste",
                "commune": TALANT,
                "kind": "list",
                "asset_ids": [*tal_lights[:3], moved],
            },
            headers=h,
        ),
        201,
    )
    tal_zone = ok(
        await client.post(
            groups,
            json={
                "name": "grp-tal-zone",
                "commune": TALANT,
                "kind": "polygon",
                "polygon": box_polygon(BOTH_COMMUNES_BOX),
            },
            headers=h,
        ),
        201,
    )
    # Devices report in both communes; the moved light reported while it was in Talant.
    for device_id, commune in ((che_lights[1], CHENOVE), (tal_lights[0], TALANT), (moved, TALANT)):
        await report_all(system.runtime, device_id, commune)
    ok(await client.patch(f"{api}/{moved}", json={"commune": "Chenôve"}, headers=h))
    foreign_groups: dict[str, int] = {}
    for body in (
        {
            "name": "grp-che-liste-roosevelt",
            "commune": CHENOVE,
            "kind": "list",
            "asset_ids": che_lights[:4],
        },
        {
            "name": "grp-che-zone-mail",
            "commune": "Chenôve",
            "kind": "polygon",
            "polygon": box_polygon(CHENOVE_BOX),
        },
        # Metropolis-wide: only metropolis-wide people see it, whatever its members.
        {"name": "grp-metro-mixte", "kind": "list", "asset_ids": [che_lights[1], tal_lights[0]]},
    ):
        group = ok(await client.post(groups, json=body, headers=h), 201)
        foreign_groups[group["name"]] = group["id"]

    users = f"{API}/users"
    people = (
        ("lmartin-che", "Lucie Martin", [CHENOVE]),
        ("jdupont-bi", "Jean Dupont", [TALANT, CHENOVE]),
    )
    tokens: dict[str, int] = {}
    prefixes: list[str] = []
    secrets: dict[str, str] = {}
    for username, display_name, communes in people:
        ok(
            await client.post(
                users,
                json={
                    "username": username,
                    "display_name": display_name,
                    "password": PASSWORD,
                    "roles": ["operator"],
                    "domains": ["lighting"],
                    "communes": communes,
                },
                headers=h,
            ),
            201,
        )
        token = ok(
            await client.post(f"{API}/tokens", json={"name": "t", "username": username}, headers=h),
            201,
        )
        tokens[username] = token["id"]
        prefixes.append(token["prefix"])
        secrets[username] = token["token"]
    admin_tokens = await client.get(f"{API}/tokens", headers=h)
    for token in admin_tokens.json():
        tokens[f"admin-{token['id']}"] = token["id"]
        prefixes.append(token["prefix"])
    await make_person(system, "talant-collegue", [Role.VIEWER], communes=[TALANT])
    [(_, device_secret)] = await issue_credentials(system, [tal_lights[0]])

    equipment = {t: f"{t[:3].upper()}-CHE-01" for t in EQUIPMENT}
    second_controller = ("traffic_controller", "TRA-CHE-02")
    for asset_type, asset_id in (
        *equipment.items(),
        second_controller,
        ("bollard", TALANT_BOLLARD),
    ):
        commune = TALANT if asset_id == TALANT_BOLLARD else CHENOVE
        body = equipment_body(asset_id, asset_type, commune)
        ok(await client.post(api, json=body, headers=h), 201)
    orders = Orders(client, h)
    chenove_user = {"Authorization": f"Bearer {secrets['lmartin-che']}"}
    video = await make_person(system, "video-metro", [Role.VIDEO_AGENT])
    await habilitate(system.runtime, "video-metro")  # cameras exist only for the habilitated
    # Cameras are steered within a view session, under a habilitation (docs/video.md).
    vid = await build_video(client, admin, video, equipment["camera"])
    # Chenôve's own commands: queued (no gateway runs, they stay so) or awaiting approval.
    raise_: dict[str, Any] = {"name": "raise", "reason": "Marché"}
    chenove_commands = {
        "dim by Chenôve's user": await orders.command(
            che_lights[1], "dim", {"level_pct": 30}, headers=chenove_user
        ),
        "raise": await orders.command(equipment["bollard"], **raise_, state=AWAITING),
        "all red": await orders.command(
            equipment["traffic_controller"],
            "set_mode",
            {"mode": "all_red", "revert_after_min": 30},
            reason="Accident",
            state=AWAITING,
        ),
    }
    dim: dict[str, Any] = {"type": "streetlight", "name": "dim", "params": {"level_pct": 50}}
    short: dict[str, Any] = {"timeout_s": 5, "expires_in_s": 5}
    chenove_batches = {
        "cabinet": await orders.batch(target={"kind": "cabinet", "cabinet_id": che_cabinet}, **dim),
        "switch-off": await orders.batch(
            AWAITING,
            type="streetlight",
            name="switch",
            params={"on": False},
            target={"kind": "commune", "commune": CHENOVE},
            reason="Coupure réseau",
        ),
        "expired": await orders.batch(target=ids(*che_lights[2:4]), **dim, **short),
    }
    mixed_batches = {
        "dim": await orders.batch(target=ids(*che_lights[2:4], *tal_lights[1:3]), **dim),
        "bollards": await orders.batch(
            AWAITING,
            type="bollard",
            name="raise",
            target=ids(equipment["bollard"], TALANT_BOLLARD),
            reason="Marché",
        ),
    }
    # The controls: Talant's, made by the administrator (the Talant user approves them).
    talant_commands = {
        "dim": await orders.command(tal_lights[0], "dim", {"level_pct": 30}),
        "to approve": await orders.command(TALANT_BOLLARD, **raise_, state=AWAITING),
        "to deny": await orders.command(TALANT_BOLLARD, **raise_, state=AWAITING),
    }
    talant_batches = {
        "to cancel": await orders.batch(
            target={"kind": "cabinet", "cabinet_id": tal_cabinet}, **dim
        ),
        "to retry": await orders.batch(target=ids(*tal_lights[3:5]), **dim, **short),
        "to approve": await orders.batch(
            AWAITING,
            type="streetlight",
            name="switch",
            params={"on": False},
            target={"kind": "commune", "commune": TALANT},
            reason="Coupure réseau",
        ),
        "to deny": await orders.batch(
            AWAITING, type="bollard", name="raise", target=ids(TALANT_BOLLARD), reason="Marché"
        ),
    }
    # The short-lived ones expire, so that retrying them has something to retry.
    closed = await jobs.close_overdue(system.db, utcnow() + timedelta(seconds=30))
    assert closed.expired == 4, closed
    for label, batch_id in (*chenove_batches.items(), *mixed_batches.items()):
        chenove_commands[f"child of {label}"] = await orders.child(batch_id, CHENOVE)
    chenove_commands["camera preset"] = vid.camera_command

    roads = await build_roads(client, admin)
    watch = await build_watch(
        client,
        system,
        admin,
        {
            "cabinet": che_cabinet,
            "light": che_lights[1],
            "bollard": equipment["bollard"],
            "camera": equipment["camera"],
        },
        {**{f"light {i}": a for i, a in enumerate(tal_lights[:5])}, "bollard": TALANT_BOLLARD},
    )
    async with system.db.read() as session:
        chenove_ids = (
            (await session.execute(text("SELECT id FROM assets WHERE commune_code = 'chenove'")))
            .scalars()
            .all()
        )
        chenove_command_ids = (
            (await session.execute(text("SELECT id FROM commands WHERE commune_code <> 'talant'")))
            .scalars()
            .all()
        )
    key, _secret = await opendata_keys.create_key(system, "a harvester")
    world = World(
        opendata_key=key.id,
        chenove_assets=tuple(sorted(chenove_ids)),
        chenove_cabinet=che_cabinet,
        chenove_light=che_lights[1],
        chenove_api_asset="SL-CHE-API-1",
        moved_asset=moved,
        decommissioned_asset=che_lights[-1],
        talant_cabinet=tal_cabinet,
        talant_light=tal_lights[0],
        foreign_groups=foreign_groups,
        talant_list_group=tal_list["id"],
        talant_polygon_group=tal_zone["id"],
        chenove_user="lmartin-che",
        bi_communal_user="jdupont-bi",
        talant_colleague="talant-collegue",
        actor="talant-all",
        foreign_tokens=tokens,
        foreign_token_prefixes=tuple(prefixes),
        talant_device_secret=device_secret,
        chenove_equipment=equipment,
        chenove_commands=chenove_commands,
        chenove_command_ids=tuple(chenove_command_ids),
        chenove_batches=chenove_batches,
        mixed_batches=mixed_batches,
        talant_commands=talant_commands,
        talant_batches=talant_batches,
        watch=watch,
        lighting=await build_lighting(client, system, admin, che_cabinet),
        traffic=await build_traffic(
            client, h, (equipment["traffic_controller"], second_controller[1]), ok
        ),
        video=vid.ids,
        reports=await build_reports(system),
        mobility_approach=await build_mobility(system, equipment["traffic_controller"]),
        roads=roads,
    )
    approver = await make_person(system, "plans-approver", [Role.SUPERVISOR])
    world = replace(world, plans=await build_plans(client, h, approver.headers, ok))
    world = replace(world, vehicles=await build_vehicles(client, h, system.runtime, ok))
    # Last: its entry names Chenôve's things made above.
    return replace(world, opslog=await build_opslog(client, admin, world))


@dataclass(frozen=True, slots=True)
class _VideoSetup:
    ids: Vid
    camera_command: str


async def build_video(
    client: httpx.AsyncClient, admin: Person, agent: Person, camera: str
) -> _VideoSetup:
    """A metropolis agent habilitated over Chenôve watches and steers its camera, and
    extracts footage of it; a hold is asked on it; Talant gets a camera (the control)."""
    h, api, now = admin.headers, f"{API}/video", datetime.now(UTC)
    talant_camera = "CAM-TAL-01"
    body = equipment_body(talant_camera, "camera", TALANT)
    ok(await client.post(f"{API}/assets", json=body, headers=h), 201)
    habilitation = {
        "username": "video-metro",
        "authority": "Préfecture de la Côte-d'Or",
        "reference": "arrêté 2026-118",
        "communes": [CHENOVE],
        "valid_from": (now - timedelta(days=1)).isoformat(),
        "valid_until": (now + timedelta(days=30)).isoformat(),
    }
    hab = ok(await client.post(f"{api}/habilitations", json=habilitation, headers=h), 201)
    opened = {"cameras": [camera], "reason": "incident en cours", "reason_text": "Rixe"}
    session = ok(await client.post(f"{api}/sessions", json=opened, headers=agent.headers), 201)
    steer = {"camera_id": camera, "name": "goto_preset", "params": {"preset": 3}}
    url = f"{api}/sessions/{session['id']}/commands"
    command = ok(await client.post(url, json=steer, headers=agent.headers), 201)
    period = {
        "start": (now - timedelta(hours=3)).isoformat(),
        "end": (now - timedelta(hours=2)).isoformat(),
    }
    extraction = {"camera_id": camera, "reason": "réquisition", **period}
    made = ok(await client.post(f"{api}/extractions", json=extraction, headers=agent.headers), 201)
    asked = {
        "cameras": [camera],
        "period_start": period["start"],
        "period_end": period["end"],
        "reference": "PV 2026/1",
        "reason": "procédure",
    }
    hold = ok(await client.post(f"{api}/holds", json=asked, headers=h), 201)
    ids = Vid(hab["id"], session["id"], hold["id"], made["id"], talant_camera)
    return _VideoSetup(ids, str(command["id"]))


async def build_mobility(system: Context, controller: str) -> int:
    """An approach of Chenôve's controller, a priority request on it, a count of it."""
    approach = await mobility_approaches.create_approach(
        system,
        ApproachCreate(
            controller_id=controller,
            name="Chenôve northbound",
            direction="north",
            lines=["L4"],
            shape="sector",
            coordinates=[[5.006, 47.292]],
            radius_m=120,
        ),
    )
    now = utcnow()
    async with system.db.write() as session:
        session.add(
            PriorityRequest(
                approach_id=approach.id,
                controller_id=controller,
                commune_code=CHENOVE,
                vehicle_id="bus-che",
                pass_key="t:walk",
                line="L4",
                direction="north",
                distance_m=80.0,
                observed_at=now,
                requested_at=now,
                outcome="succeeded",
                delay_saved_s=11.0,
            )
        )
        for period in (6, 60):
            session.add(
                TrafficCount(
                    asset_id=controller,
                    lane=1,
                    period_min=period,
                    bucket=now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1),
                    commune_code=CHENOVE,
                    vehicles=40,
                    flow_vph=40.0 * 60 / period,
                    occupancy_pct=12.0,
                    speed_kmh=None,
                    samples=4,
                )
            )
    return approach.id


async def build_roads(client: httpx.AsyncClient, admin: Person) -> Rds:
    """A closure in Chenôve shown on Chenôve's sign, one from Talant down to Chenôve,
    and one in Talant (the control)."""
    h = admin.headers
    sign = "PMV-CHE-01"
    body = {
        **light_body(sign, CHENOVE),
        "type": "message_sign",
        "name": f"Panneau {sign}",
        "attributes": {"lines": 3, "width_chars": 16},
    }
    ok(await client.post(f"{API}/assets", json=body, headers=h), 201)

    async def create(line: dict[str, Any], title: str) -> int:
        made = await client.post(
            f"{API}/roads/situations", json=road_situation(line, title), headers=h
        )
        return int(ok(made, 201)["id"])

    chenove = await create(CHENOVE_ROAD, "rd-che-fermeture")
    shown = {"signs": [{"asset_id": sign, "text": "ROUTE FERMEE"}]}
    ok(await client.post(f"{API}/roads/situations/{chenove}/signs/display", json=shown, headers=h))
    mixed = await create(ACROSS_ROAD, "Fermeture de la côte")
    talant = await create(TALANT_ROAD, "Fermeture à Talant")
    return Rds(chenove, mixed, talant, sign)


async def build_reports(system: Context) -> Reps:
    """A Chenôve report taken by phone, with its caller's contact and a photo."""
    blank = Reps(0, "")
    first, last, email, phone = blank.personal
    photo = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(photo, "PNG")
    received = await intake.receive(
        system,
        Submission(
            channel=ReportChannel.PHONE,
            service_code="streetlight-out",
            lon=5.006,
            lat=47.292,
            description="lamp out by the school",
            first_name=first,
            last_name=last,
            email=email,
            phone=phone,
            photo=Photo("image/png", photo.getvalue()),
        ),
        long_name="location",
    )
    return Reps(received.report_id, received.ticket)


async def public_problems(client: httpx.AsyncClient, w: World, markers: Markers) -> list[str]:
    """A citizen posts a report with their name and contact: no public route shows any
    of it, nor the personal data of the Chenôve phone call."""
    mine = ("Prudence", "Lambert-Walk", "prudence.walk@example.org", "+33 6 00 11 22 33")
    data = {
        "service_code": "graffiti",
        "lat": "47.292",
        "long": "5.006",
        "description": "tags",
        "first_name": mine[0],
        "last_name": mine[1],
        "email": mine[2],
        "phone": mine[3],
    }
    posted = await client.post("/open311/v2/requests.json", data=data)
    if posted.status_code != 200:
        return [f"public post: {posted.status_code} {posted.text[:300]}"]
    ticket = posted.json()[0]["service_request_id"]
    personal = [s.lower() for s in (*mine, *w.reports.personal)]
    problems: list[str] = []
    for url in (
        "/open311/v2/requests.json",
        f"/open311/v2/requests/{ticket}.json",
        f"/open311/v2/requests/{w.reports.chenove_ticket}.json",
        f"/open311/v2/requests.json?service_request_id={ticket},{w.reports.chenove_ticket}",
        f"/open311/v2/requests/{ticket}.xml",
        "/open311/v2/requests.xml",
        "/open311/v2/discovery.json",
        "/open311/v2/services.json",
    ):
        answer = await client.get(url)
        shown = response_text(answer).lower()
        found = [p for p in personal if p in shown]
        if answer.status_code != 200 or found:
            problems.append(f"public {url}: {answer.status_code}, shows {found}")
    return problems


async def build_lighting(
    client: httpx.AsyncClient, system: Context, admin: Person, chenove_cabinet: str
) -> Lit:
    """Programs and calendars of Chenôve, of the metropolis and of Talant; Chenôve's
    cabinet given Chenôve's calendar; every cabinet's schedule compiled."""
    h = admin.headers

    async def create(what: str, body: Mapping[str, Any]) -> int:
        return int(ok(await client.post(f"{API}/lighting/{what}", json=body, headers=h), 201)["id"])

    metro_program = await create("programs", {"name": "Nuit métropole", "steps": LIGHT_STEPS})
    che_program = await create(
        "programs", {"name": "Nuit de Chenôve", "commune": CHENOVE, "steps": LIGHT_STEPS}
    )
    metro_calendar = await create(
        "calendars", {"name": "Calendrier métropole", "default_program_id": metro_program}
    )
    che_calendar = await create(
        "calendars",
        {"name": "Calendrier de Chenôve", "commune": CHENOVE, "default_program_id": che_program},
    )
    talant_calendar = await create(
        "calendars",
        {"name": "Calendrier de Talant", "commune": TALANT, "default_program_id": metro_program},
    )
    che_assignment = await create(
        "assignments",
        {"calendar_id": che_calendar, "target": "cabinet", "cabinet_id": chenove_cabinet},
    )
    che_override = await create(
        "overrides",
        {
            "target": "assets",
            "asset_ids": [chenove_cabinet],
            "level_pct": 80,
            "ends_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            "reason": "travaux de Chenôve",
        },
    )
    await lighting_service.compile_schedules(system)
    return Lit(
        che_program,
        che_calendar,
        che_assignment,
        metro_program,
        metro_calendar,
        talant_calendar,
        che_override,
    )


async def build_watch(
    client: httpx.AsyncClient,
    system: Context,
    admin: Person,
    chenove: Mapping[str, str],
    talant: Mapping[str, str],
) -> Watch:
    """Alarms, rules, routes and a delivery, teams, interventions (a note, a photo) and a
    policy, in Chenôve and in Talant, made by the administrator (alarms by their source).

    ``chenove`` and ``talant`` name an asset per label: cabinet, light, bollard, camera
    (Chenôve); lights 0 to 4 and bollard (Talant)."""
    h = admin.headers
    now = utcnow()

    def signal(asset_id: str, alarm_type: str, active: bool = True) -> AlarmSignal:
        ts = now if active else now + timedelta(seconds=1)
        return AlarmSignal(asset_id, alarm_type, active, ts, AlarmSource.DEVICE)

    # Chenôve: a cabinet's supply loss with its light's failure grouped under it, a bollard
    # (shelved below) and a camera, cleared. Talant: one alarm per control (no cabinet:
    # nothing is grouped).
    raised = {
        "cabinet": signal(chenove["cabinet"], "supplyLoss"),
        "light": signal(chenove["light"], "lampFailure"),
        "shelved": signal(chenove["bollard"], "motorFault"),
        "cleared": signal(chenove["camera"], "videoLoss"),
    }
    controls = ("acknowledge", "assign", "clear", "comment", "shelve")
    tal_raised = {
        **{c: signal(talant[f"light {i}"], "lampFailure") for i, c in enumerate(controls)},
        "unshelve": signal(talant["bollard"], "motorFault"),
    }
    async with system.db.write() as session:
        await raising.apply(session, [*raised.values(), *tal_raised.values()], now)
    async with system.db.write() as session:
        await raising.apply(session, [signal(chenove["camera"], "videoLoss", False)], now)
    async with system.db.read() as session:
        rows = (await session.execute(text("SELECT id, asset_id, alarm_type FROM alarms"))).all()
        users = (await session.execute(text("SELECT username, id FROM users"))).all()
    people: dict[str, int] = {str(name): int(user_id) for name, user_id in users}
    alarm_ids = {(asset, kind): alarm_id for alarm_id, asset, kind in rows}
    chenove_alarms = {k: alarm_ids[(s.asset_id, s.alarm_type)] for k, s in raised.items()}
    talant_alarms = {k: alarm_ids[(s.asset_id, s.alarm_type)] for k, s in tal_raised.items()}
    for alarm_id in (chenove_alarms["shelved"], talant_alarms["unshelve"]):
        url = f"{API}/alarms/{alarm_id}/shelve"
        ok(await client.post(url, json={"minutes": 60, "reason": "Marché"}, headers=h))
    url = f"{API}/alarms/{chenove_alarms['light']}/assign"
    ok(await client.post(url, json={"user": "lmartin-che"}, headers=h))

    async def create(what: str, body: Mapping[str, Any]) -> int:
        return int(ok(await client.post(f"{API}/{what}", json=body, headers=h), 201)["id"])

    chenove_rules = {
        "chenove": await create("rules", rule_body("rg-che-surtension", [CHENOVE], enabled=False)),
        "both": await create("rules", rule_body("rg-duo-nuit", [TALANT, CHENOVE], enabled=False)),
    }
    talant_rules = {
        "on": await create("rules", rule_body("rg-tal-surtension", [TALANT])),
        "off": await create("rules", rule_body("rg-tal-eteinte", [TALANT], enabled=False)),
        "to delete": await create("rules", rule_body("rg-tal-jetable", [TALANT])),
    }
    metropolis_rule = await create("rules", rule_body("rg-metro-silence", None, enabled=False))

    # Routes for every commune are for metropolis-wide people only: hidden from Talant.
    chenove_routes = {
        "chenove": await create("notification-routes", route_body("nr-che-astreinte", [CHENOVE])),
        "both": await create("notification-routes", route_body("nr-duo-nuit", [TALANT, CHENOVE])),
        "everywhere": await create("notification-routes", route_body("nr-metro-tout", None)),
    }
    talant_routes = {
        "on": await create("notification-routes", route_body("nr-tal-astreinte", [TALANT])),
        "to delete": await create("notification-routes", route_body("nr-tal-jetable", [TALANT])),
    }
    # A test delivery each (failed: nobody listens): Chenôve's and Talant's.
    for route_id in (chenove_routes["chenove"], talant_routes["on"]):
        ok(await client.post(f"{API}/notification-routes/{route_id}/test", headers=h))

    chenove_teams = {
        "chenove": await create("teams", team_body("eq-che-voirie", [CHENOVE])),
        "both": await create("teams", team_body("eq-duo-eclairage", [TALANT, CHENOVE])),
    }
    talant_teams = {
        "talant": await create("teams", team_body("eq-tal-eclairage", [TALANT])),
        "to delete": await create("teams", team_body("eq-tal-jetable", [TALANT])),
    }
    url = f"{API}/teams/{chenove_teams['chenove']}/members"
    ok(await client.post(url, json={"user_id": people["lmartin-che"]}, headers=h), 201)

    async def work(
        body: Mapping[str, Any], note: str, photo: bytes, *others: int
    ) -> tuple[int, int]:
        work_id = await create("interventions", body)
        url = f"{API}/interventions/{work_id}"
        ok(await client.post(f"{url}/notes", json={"text": note}, headers=h), 201)
        photo_id = work_id
        # The walk tells a path's ids apart by their digits: a photo's id must differ from
        # the ids of the interventions it is requested through.
        while photo_id in (work_id, *others):
            sent = await client.post(f"{url}/photos", content=photo, headers={**h, **PNG_HEADERS})
            photo_id = int(ok(sent, 201)["id"])
        return work_id, photo_id

    talant_work, talant_photo = await work(
        work_body(
            title="it-tal-candelabre",
            asset_id=talant["light 0"],
            team_id=talant_teams["talant"],
            alarm_ids=[talant_alarms["acknowledge"]],
        ),
        "nt-tal-lanterne",
        PNG,
    )
    chenove_work, chenove_photo = await work(
        work_body(
            title="it-che-candelabre",
            priority="high",
            asset_id=chenove["light"],
            team_id=chenove_teams["chenove"],
            alarm_ids=[chenove_alarms["light"]],
        ),
        "nt-che-cable-arrache",
        CHENOVE_PNG,
        talant_work,
    )
    policy = await create(
        "intervention-policies",
        {
            "alarm_type": "walk:policy",
            "category": "lighting",
            "priority": "high",
            "team_id": chenove_teams["chenove"],
        },
    )
    return Watch(
        chenove_alarms=chenove_alarms,
        talant_alarms=talant_alarms,
        chenove_rules=chenove_rules,
        talant_rules=talant_rules,
        metropolis_rule=metropolis_rule,
        chenove_routes=chenove_routes,
        talant_routes=talant_routes,
        chenove_teams=chenove_teams,
        talant_teams=talant_teams,
        chenove_intervention=chenove_work,
        chenove_photo=chenove_photo,
        talant_intervention=talant_work,
        talant_photo=talant_photo,
        policy=policy,
        chenove_user_id=people["lmartin-che"],
        talant_colleague_id=people["talant-collegue"],
        markers=(
            "rg-che-surtension",
            "rg-duo-nuit",
            "nr-che-astreinte",
            "nr-duo-nuit",
            "nr-metro-tout",
            "eq-che-voirie",
            "eq-duo-eclairage",
            "it-che-candelabre",
            "nt-che-cable-arrache",
            hashlib.sha256(CHENOVE_PNG).hexdigest(),
        ),
    )


# --- the database before and after --------------------------------------------------------


SNAPSHOT = {
    **PLANS_SNAPSHOT,
    "priority approaches outside Talant": (
        "SELECT * FROM priority_approaches WHERE commune_code <> 'talant' ORDER BY id"
    ),
    "priority requests outside Talant": (
        "SELECT * FROM priority_requests WHERE commune_code <> 'talant' ORDER BY id"
    ),
    "reports outside Talant": "SELECT * FROM reports WHERE commune_code <> 'talant' ORDER BY id",
    "report contacts outside Talant": (
        "SELECT c.* FROM report_contacts c JOIN reports r ON r.id = c.report_id "
        "WHERE r.commune_code <> 'talant' ORDER BY c.report_id"
    ),
    "report notes outside Talant": (
        "SELECT n.* FROM report_notes n JOIN interventions i ON i.id = n.intervention_id "
        "WHERE i.commune_code <> 'talant' ORDER BY n.id"
    ),
    "road situations outside Talant": (
        "SELECT * FROM road_situations WHERE commune_code IS NULL OR commune_code <> 'talant' "
        "ORDER BY id"
    ),
    "communes of road situations outside Talant": (
        "SELECT * FROM road_situation_communes WHERE situation_id IN "
        "(SELECT situation_id FROM road_situation_communes WHERE commune_code <> 'talant') "
        "ORDER BY situation_id, commune_code"
    ),
    "operations log outside Talant": (
        "SELECT * FROM opslog_records WHERE commune_code <> 'talant' ORDER BY seq"
    ),
    "operations log links outside Talant": (
        "SELECT l.* FROM opslog_links l JOIN opslog_records r ON r.seq = l.seq "
        "WHERE r.commune_code <> 'talant' ORDER BY l.seq, l.kind, l.ref"
    ),
    "road sign postings outside Talant": (
        "SELECT * FROM road_sign_postings WHERE commune_code <> 'talant' ORDER BY id"
    ),
    "lighting programs outside Talant": (
        "SELECT * FROM lighting_programs WHERE commune_code IS NULL OR commune_code <> 'talant' "
        "ORDER BY id"
    ),
    "lighting calendars outside Talant": (
        "SELECT * FROM lighting_calendars WHERE commune_code IS NULL "
        "OR commune_code <> 'talant' ORDER BY id"
    ),
    "lighting assignments outside Talant": (
        "SELECT * FROM lighting_assignments WHERE commune_code IS NULL "
        "OR commune_code <> 'talant' ORDER BY id"
    ),
    "schedules of cabinets outside Talant": (
        "SELECT s.cabinet_id, s.version, s.content_hash FROM lighting_schedules s "
        "JOIN assets a ON a.id = s.cabinet_id WHERE a.commune_code <> 'talant' "
        "ORDER BY s.cabinet_id"
    ),
    "assets outside Talant": "SELECT * FROM assets WHERE commune_code <> 'talant' ORDER BY id",
    "traffic configurations": "SELECT * FROM traffic_configs ORDER BY controller_id",
    "traffic plans": "SELECT * FROM traffic_plans ORDER BY id",
    "traffic timetables": (
        "SELECT controller_id, version, content_hash FROM traffic_timetables ORDER BY 1"
    ),
    "traffic manual plans": "SELECT * FROM traffic_manual_plans ORDER BY id",
    "traffic corridors": "SELECT * FROM traffic_corridors ORDER BY id",
    "groups outside Talant": (
        "SELECT * FROM asset_groups WHERE commune_code IS NULL OR commune_code <> 'talant' "
        "ORDER BY id"
    ),
    "memberships touching another commune": (
        "SELECT m.group_id, m.asset_id FROM asset_group_members m "
        "JOIN asset_groups g ON g.id = m.group_id JOIN assets a ON a.id = m.asset_id "
        "WHERE g.commune_code IS NULL OR g.commune_code <> 'talant' "
        "OR a.commune_code <> 'talant' ORDER BY m.group_id, m.asset_id"
    ),
    "other users": ("SELECT * FROM users WHERE username <> 'talant-all' ORDER BY id"),
    # Signing in moves its last_login_at and updated_at; its scope and roles must not move.
    "the Talant user": (
        "SELECT id, username, password_hash, roles, domains, communes, disabled "
        "FROM users WHERE username = 'talant-all'"
    ),
    # last_used_at moves whenever a token is used.
    "tokens": (
        "SELECT id, user_id, name, prefix, token_hash, created_at, expires_at, revoked_at "
        "FROM api_tokens ORDER BY id"
    ),
    "communes": "SELECT * FROM communes ORDER BY code",
    "latest values outside Talant": (
        "SELECT v.* FROM latest_values v JOIN assets a ON a.id = v.asset_id "
        "WHERE a.commune_code <> 'talant' ORDER BY v.asset_id, v.key"
    ),
    "device status outside Talant": (
        "SELECT d.* FROM device_status d JOIN assets a ON a.id = d.asset_id "
        "WHERE a.commune_code <> 'talant' ORDER BY d.asset_id"
    ),
    "telemetry outside Talant": (
        "SELECT p.* FROM telemetry_points p JOIN assets a ON a.id = p.asset_id "
        "WHERE a.commune_code <> 'talant' ORDER BY p.asset_id, p.key, p.ts"
    ),
    "device events outside Talant": (
        "SELECT e.* FROM device_events e JOIN assets a ON a.id = e.asset_id "
        "WHERE a.commune_code <> 'talant' ORDER BY e.id"
    ),
    # Talant's own (the controls) cover Talant alone.
    "video habilitations outside Talant": (
        "SELECT * FROM video_habilitations "
        "WHERE CAST(communes AS TEXT) <> '[\"talant\"]' ORDER BY id"
    ),
    "video sessions outside Talant": (
        "SELECT * FROM video_sessions WHERE CAST(communes AS TEXT) <> '[\"talant\"]' ORDER BY id"
    ),
    "video holds outside Talant": (
        "SELECT * FROM video_holds WHERE CAST(communes AS TEXT) <> '[\"talant\"]' ORDER BY id"
    ),
    "video extractions": "SELECT * FROM video_extractions ORDER BY id",
    "video retention outside Talant": (
        "SELECT * FROM video_retention WHERE commune_code <> 'talant' ORDER BY camera_id"
    ),
    "video masks outside Talant": (
        "SELECT * FROM video_masks WHERE commune_code <> 'talant' ORDER BY id"
    ),
    # Refused attempts are registered (the register's very purpose); nothing else may be.
    "video register outside Talant": (
        "SELECT * FROM video_register WHERE outcome = 'done' "
        "AND (commune_code IS NULL OR commune_code <> 'talant') ORDER BY seq"
    ),
    "audit outside Talant": (
        "SELECT * FROM audit_entries WHERE commune_code IS NOT NULL "
        "AND commune_code <> 'talant' ORDER BY seq"
    ),
    # A command copies its asset's commune: either one outside Talant makes it Chenôve's
    # (a command slipping onto a Chenôve asset under Talant's name shows as added).
    "commands outside Talant": (
        "SELECT c.* FROM commands c JOIN assets a ON a.id = c.asset_id "
        "WHERE c.commune_code <> 'talant' OR a.commune_code <> 'talant' ORDER BY c.id"
    ),
    "their transitions": (
        "SELECT t.* FROM command_transitions t JOIN commands c ON c.id = t.command_id "
        "JOIN assets a ON a.id = c.asset_id "
        "WHERE c.commune_code <> 'talant' OR a.commune_code <> 'talant' ORDER BY t.id"
    ),
    # Batches over Chenôve alone and over both communes; approving, refusing or cancelling
    # one moves its state and decided_by.
    "batches touching another commune": (
        "SELECT * FROM command_batches WHERE CAST(communes AS TEXT) <> '[\"talant\"]' "
        "OR id IN (SELECT c.batch_id FROM commands c JOIN assets a ON a.id = c.asset_id "
        "WHERE c.commune_code <> 'talant' OR a.commune_code <> 'talant') ORDER BY id"
    ),
    "alarms outside Talant": "SELECT * FROM alarms WHERE commune_code <> 'talant' ORDER BY id",
    "their history": (
        "SELECT h.* FROM alarm_history h JOIN alarms a ON a.id = h.alarm_id "
        "WHERE a.commune_code <> 'talant' ORDER BY h.id"
    ),
    # Rules, routes and teams of Chenôve, of both communes or of every commune (their
    # communes are not exactly Talant's).
    "rules not Talant's alone": (
        "SELECT * FROM monitoring_rules WHERE communes IS NULL "
        "OR CAST(communes AS TEXT) <> '[\"talant\"]' ORDER BY id"
    ),
    "their versions": (
        "SELECT * FROM rule_versions WHERE rule_id IN (SELECT id FROM monitoring_rules "
        "WHERE communes IS NULL OR CAST(communes AS TEXT) <> '[\"talant\"]') "
        "ORDER BY rule_id, version"
    ),
    "routes not Talant's alone": (
        "SELECT * FROM notification_routes WHERE communes IS NULL "
        "OR CAST(communes AS TEXT) <> '[\"talant\"]' ORDER BY id"
    ),
    "deliveries outside Talant": (
        "SELECT * FROM notification_deliveries "
        "WHERE commune_code IS NULL OR commune_code <> 'talant' ORDER BY id"
    ),
    "teams not Talant's alone": (
        "SELECT * FROM teams WHERE CAST(communes AS TEXT) <> '[\"talant\"]' ORDER BY id"
    ),
    # A member of a team is a person of a commune too: Chenôve's user joining a Talant
    # team shows as added.
    "team members touching another commune": (
        "SELECT m.team_id, m.user_id, m.added_at FROM team_members m "
        "JOIN teams t ON t.id = m.team_id JOIN users u ON u.id = m.user_id "
        "WHERE CAST(t.communes AS TEXT) <> '[\"talant\"]' OR u.communes IS NULL "
        "OR CAST(u.communes AS TEXT) <> '[\"talant\"]' ORDER BY m.team_id, m.user_id"
    ),
    "interventions outside Talant": (
        "SELECT * FROM interventions WHERE commune_code <> 'talant' ORDER BY id"
    ),
    "their notes": (
        "SELECT n.* FROM intervention_notes n JOIN interventions i ON i.id = n.intervention_id "
        "WHERE i.commune_code <> 'talant' ORDER BY n.id"
    ),
    "their photos": (
        "SELECT p.id, p.intervention_id, p.sha256, p.size, p.author FROM intervention_photos p "
        "JOIN interventions i ON i.id = p.intervention_id "
        "WHERE i.commune_code <> 'talant' ORDER BY p.id"
    ),
    "their history entries": (
        "SELECT h.* FROM intervention_history h "
        "JOIN interventions i ON i.id = h.intervention_id "
        "WHERE i.commune_code <> 'talant' ORDER BY h.id"
    ),
    # A Talant intervention linking a Chenôve alarm or asset shows as added.
    "alarm links touching another commune": (
        "SELECT l.* FROM intervention_alarms l "
        "JOIN interventions i ON i.id = l.intervention_id JOIN alarms a ON a.id = l.alarm_id "
        "WHERE i.commune_code <> 'talant' OR a.commune_code <> 'talant' "
        "ORDER BY l.intervention_id, l.alarm_id"
    ),
    "asset links touching another commune": (
        "SELECT l.* FROM intervention_assets l "
        "JOIN interventions i ON i.id = l.intervention_id "
        "LEFT JOIN assets a ON a.id = l.asset_id "
        "WHERE i.commune_code <> 'talant' OR a.commune_code IS NULL "
        "OR a.commune_code <> 'talant' ORDER BY l.intervention_id, l.asset_id"
    ),
    # Metropolis-wide: no commune user changes one.
    "intervention policies": "SELECT * FROM intervention_policies ORDER BY id",
    "open data API keys": "SELECT * FROM opendata_api_keys ORDER BY id",
    "open data snapshots": "SELECT * FROM opendata_snapshots ORDER BY dataset, version",
}


async def snapshot(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """The rows that the Talant user must never change."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with runtime.db.read() as session:
        for name, sql in SNAPSHOT.items():
            out[name] = [tuple(row) for row in (await session.execute(text(sql))).all()]
    return out


async def talant_ids(runtime: Runtime) -> set[str]:
    """Ids of Talant's live assets, straight from the database."""
    async with runtime.db.read() as session:
        rows = await session.execute(
            text(
                "SELECT id FROM assets WHERE commune_code = 'talant' AND status <> 'decommissioned'"
            )
        )
        return set(rows.scalars())


# --- the walk -----------------------------------------------------------------------------


def fill(path: str, values: Mapping[str, str | int]) -> str:
    """A route path with its parameters filled in (URL-quoted)."""
    for name in path_params(path):
        path = re.sub(rf"{{{name}(?::\w+)?}}", quote(str(values[name]), safe=""), path)
    return path


def expand(
    path: str, call: Call, values: Mapping[str, Sequence[str | int]]
) -> Iterator[tuple[dict[str, str | int], dict[str, str | int] | None]]:
    """Each (path values, ghost values or None) to send ``call`` with."""
    pinned = dict(call.path or {})
    free = [name for name in path_params(path) if name not in pinned]
    if not free:
        yield pinned, None
        return
    # One parameter is left free (the others are pinned); each foreign value is tried in
    # turn, and compared with a ghost.
    (name,) = free
    for value in values[name]:
        ghost = {**pinned, name: GHOSTS[name]} if name in GHOSTS else None
        yield {**pinned, name: value}, ghost


async def send(
    client: httpx.AsyncClient, method: str, url: str, call: Call, headers: Mapping[str, str]
) -> httpx.Response:
    """Send one call."""
    return await client.request(
        method,
        url,
        params=dict(call.query),
        json=call.json,
        content=call.content,
        headers={**headers, **call.headers},
    )


async def walk(
    client: httpx.AsyncClient,
    plan: Mapping[tuple[str, str], Sequence[Call]],
    values: Mapping[str, Sequence[str | int]],
    markers: Markers,
    headers: Mapping[str, str],
) -> tuple[list[str], int]:
    """Every call of the plan; returns what went wrong and how many requests were sent.

    Reads go before writes, so that a write that wrongly succeeded cannot hide behind a
    read that ran earlier; the listings are read again after the walk.
    """
    problems: list[str] = []
    sent = 0
    order = sorted(plan, key=lambda op: (op[0] not in SAFE_METHODS, op[1], op[0]))
    for method, path in order:
        for call in plan[(method, path)]:
            for given, ghost in expand(path, call, values):
                response = await send(client, method, fill(path, given), call, headers)
                sent += 1
                where = f"{method} {response.request.url} [{call.label or 'plain'}]"
                status = response.status_code
                if status >= 500:
                    problems.append(f"{where}: server error {status}: {response.text[:300]}")
                leaked = leaks(markers, response)
                if leaked:
                    problems.append(f"{where}: shows {sorted(leaked)}: {response.text[:300]}")
                refused = PUBLIC_REFUSED if (method, path) in PUBLIC_PLAN else REFUSED
                if method not in SAFE_METHODS and not call.may_write and status not in refused:
                    problems.append(f"{where}: a write aimed at Chenôve answered {status}")
                if call.expect is not None and status != call.expect:
                    problems.append(
                        f"{where}: a Talant control answered {status}, not {call.expect}: "
                        f"{response.text[:300]}"
                    )
                # A hidden thing must be indistinguishable from one that does not exist.
                twins: list[tuple[str | int, str | int, str, Call]] = []
                if ghost is not None:
                    (name,) = (n for n in ghost if ghost[n] != given[n])
                    twins.append((given[name], ghost[name], fill(path, ghost), call))
                if call.twin is not None:
                    t = call.twin
                    twin_call = replace(call, json=t.json, query=t.query, twin=None)
                    twins.append((t.value, t.ghost, fill(path, given), twin_call))
                for value, ghost_value, url, twin_call in twins:
                    other = await send(client, method, url, twin_call, headers)
                    sent += 1
                    if normalised(response, value) != normalised(other, ghost_value):
                        problems.append(
                            f"{where}: answers unlike a missing one ({status}: "
                            f"{response.text[:200]} / {other.status_code}: {other.text[:200]})"
                        )
    return problems, sent


async def all_pages(
    client: httpx.AsyncClient, headers: Mapping[str, str], query: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Every item of the asset listing, following the cursors."""
    items: list[dict[str, Any]] = []
    params = dict(query)
    while True:
        page = (await client.get(f"{API}/assets", params=params, headers=headers)).json()
        items += page["items"]
        if not page["next_cursor"]:
            return items
        params["cursor"] = page["next_cursor"]


async def listings_problems(
    client: httpx.AsyncClient, headers: Mapping[str, str], w: World, expected: set[str]
) -> list[str]:
    """Listings, maps and exports hold exactly Talant's assets (and Talant's groups)."""
    problems: list[str] = []

    def check(what: str, communes: Sequence[Any], ids: set[str]) -> None:
        if set(communes) != {TALANT}:
            problems.append(f"{what}: communes {sorted(set(map(str, communes)))}")
        if ids != expected:
            problems.append(
                f"{what}: missing {sorted(expected - ids)[:5]}, extra {sorted(ids - expected)[:5]}"
            )

    items = await all_pages(client, headers, {"limit": "7"})
    check("JSON pages", [a["commune"] for a in items], {a["id"] for a in items})
    for label, params, extra in (
        ("format=geojson", {"format": "geojson", "detail": "true"}, {}),
        ("Accept geo+json", {}, {"Accept": GEOJSON}),
        ("export geojson", {"format": "geojson"}, {}),
    ):
        url = f"{API}/assets/export" if label.startswith("export") else f"{API}/assets"
        response = await client.get(url, params=params, headers={**headers, **extra})
        assert response.headers["content-type"].startswith(GEOJSON), (label, response.text)
        features = response.json()["features"]
        check(
            label,
            [f["properties"]["commune"] for f in features],
            {f["properties"]["id"] for f in features},
        )
    response = await client.get(f"{API}/assets/export", params={"format": "csv"}, headers=headers)
    rows = list(csv.DictReader(io.StringIO(response.text)))
    check("export csv", [r["commune"] for r in rows], {r["id"] for r in rows})

    groups = (await client.get(f"{API}/groups", headers=headers)).json()
    if any(g["commune"] != TALANT for g in groups) or any(
        g["id"] in w.foreign_groups.values() for g in groups
    ):
        problems.append(f"groups: {groups}")
    for group in groups:
        members = set(
            (await client.get(f"{API}/groups/{group['id']}/members", headers=headers)).json()
        )
        if not members <= expected or len(members) != group["member_count"]:
            problems.append(f"group {group['name']}: members {sorted(members)}")
    zone = await client.get(f"{API}/groups/{w.talant_polygon_group}/members", headers=headers)
    if not zone.json():
        problems.append("the Talant polygon over both communes shows no Talant asset")

    latest = await client.get(f"{API}/telemetry/latest?limit=50000", headers=headers)
    states = {s["asset_id"]: s for s in latest.json()["items"]}
    if set(states) != expected:
        problems.append(f"telemetry/latest: extra {sorted(set(states) - expected)[:5]}")
    mine = states.get(w.talant_light, {})
    if mine.get("firmware") != f"fw-{TALANT}" or "level_pct" not in mine.get("values", {}):
        problems.append(f"telemetry/latest: the Talant light's state is missing: {mine}")
    state = await client.get(f"{API}/assets/{w.talant_light}/state", headers=headers)
    if state.json().get("firmware") != f"fw-{TALANT}":
        problems.append(f"state of a Talant light: {state.text}")

    users = (await client.get(f"{API}/users", headers=headers)).json()
    if {u["username"] for u in users} != {w.actor, w.talant_colleague}:
        problems.append(f"users: {[u['username'] for u in users]}")
    communes = (await client.get(f"{API}/communes", headers=headers)).json()
    if [c["code"] for c in communes] != [TALANT]:
        problems.append(f"communes: {communes}")
    audit = (await client.get(f"{API}/audit?limit=1000", headers=headers)).json()["items"]
    if not audit or {e["commune_code"] for e in audit} != {TALANT}:
        problems.append(f"audit: communes {sorted({str(e['commune_code']) for e in audit})}")
    return problems


async def command_problems(
    client: httpx.AsyncClient,
    headers: Mapping[str, str],
    w: World,
    markers: Markers,
    expected: set[str],
) -> list[str]:
    """Commands and batches, read after the walk: Talant's all there, nothing else.

    Every batch shown must be Talant's through and through (``communes`` and each child),
    which covers those the walk created over both communes; the batches over both
    communes stay hidden even though their Talant children show.
    """
    problems: list[str] = []

    async def get(url: str, params: Mapping[str, str] | None = None) -> Any:
        response = await client.get(url, params=params, headers=headers)
        leaked = leaks(markers, response)
        if leaked:
            problems.append(f"{response.request.url}: shows {sorted(leaked)}")
        if response.status_code != 200:
            problems.append(f"{response.request.url}: {response.status_code} {response.text}")
            return None
        return response.json()

    def check_commands(what: str, items: Sequence[Mapping[str, Any]]) -> None:
        strays = [c for c in items if c["commune"] != TALANT or c["asset_id"] not in expected]
        if strays:
            problems.append(f"{what}: not Talant's: {[(c['id'], c['asset_id']) for c in strays]}")

    commands: list[dict[str, Any]] = []
    params = {"limit": "200"}
    while page := await get(f"{API}/commands", params):
        commands += page["items"]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    check_commands("commands", commands)
    seen = {c["id"] for c in commands}
    if missing := set(w.talant_commands.values()) - seen:
        problems.append(f"commands: Talant's {sorted(missing)} are missing")
    if shown := seen & set(w.chenove_command_ids):
        problems.append(f"commands: Chenôve's {sorted(shown)} show")
    history = await get(f"{API}/assets/{w.talant_light}/commands")
    if history and w.talant_commands["dim"] not in {c["id"] for c in history["items"]}:
        problems.append(f"history of a Talant light: {history}")

    batches = await get(f"{API}/command-batches", {"limit": "500"}) or []
    listed = {b["id"] for b in batches}
    if missing := set(w.talant_batches.values()) - listed:
        problems.append(f"command-batches: Talant's {sorted(missing)} are missing")
    if shown := listed & {*w.chenove_batches.values(), *w.mixed_batches.values()}:
        problems.append(f"command-batches: {sorted(shown)} show")
    for batch in batches:
        if batch["communes"] != [TALANT]:
            problems.append(f"batch {batch['id']}: communes {batch['communes']}")
        url = f"{API}/command-batches/{batch['id']}/commands"
        children = await get(url, {"limit": "1000"})
        if children is not None:
            check_commands(f"batch {batch['id']}", children["items"])
            if len(children["items"]) != batch["total"]:
                problems.append(f"batch {batch['id']}: {batch['total']} targets, children shown")
    for label, batch_id in w.mixed_batches.items():
        children = await get(f"{API}/commands", {"batch_id": batch_id})
        if children is not None:
            check_commands(f"Talant children of the {label} batch over both", children["items"])
    return problems


async def watch_problems(
    client: httpx.AsyncClient,
    headers: Mapping[str, str],
    w: World,
    markers: Markers,
    runtime: Runtime,
) -> list[str]:
    """Alarms, rules, notifications, teams, interventions and KPIs, read after the walk:
    Talant's all there, nothing of Chenôve, and the counts Talant's alone."""
    problems: list[str] = []
    x = w.watch

    async def get(url: str, params: Mapping[str, str] | None = None) -> Any:
        response = await client.get(f"{API}/{url}", params=params, headers=headers)
        leaked = leaks(markers, response)
        if leaked:
            problems.append(f"{response.request.url}: shows {sorted(leaked)}")
        if response.status_code != 200:
            problems.append(f"{response.request.url}: {response.status_code} {response.text}")
            return None
        return response.json()

    def check(
        what: str, items: Sequence[Mapping[str, Any]], mine: set[Any], theirs: set[Any]
    ) -> None:
        """Every item is Talant's, Talant's are all there, Chenôve's are not."""
        shown = {i["id"] for i in items}
        strays = [i["id"] for i in items if i.get("commune", TALANT) != TALANT]
        strays += [i["id"] for i in items if i.get("communes") not in (None, [TALANT])]
        if strays:
            problems.append(f"{what}: not Talant's: {sorted(strays)}")
        if missing := mine - shown:
            problems.append(f"{what}: Talant's {sorted(missing)} are missing")
        if leaked := theirs & shown:
            problems.append(f"{what}: Chenôve's {sorted(leaked)} show")

    async with runtime.db.read() as session:

        async def count(sql: str) -> int:
            return int((await session.execute(text(sql))).scalar_one())

        talant_open = await count(
            "SELECT count(*) FROM alarms WHERE commune_code = 'talant' "
            "AND state IN ('active_unacknowledged', 'active_acknowledged', "
            "'cleared_unacknowledged')"
        )
        talant_alarms = await count("SELECT count(*) FROM alarms WHERE commune_code = 'talant'")
        talant_work = await count(
            "SELECT count(*) FROM interventions WHERE commune_code = 'talant'"
        )

    everything = {"state": ALL_ALARM_STATES, "grouped": "true", "shelved": "true"}
    alarms = await get("alarms", {**everything, "limit": "1000"})
    if alarms is not None:
        check(
            "alarms", alarms["items"], set(x.talant_alarms.values()), set(x.chenove_alarms.values())
        )
    summary = await get("alarms/summary")
    if (
        summary is not None
        and sum(summary["by_state"].values()) + summary["shelved"] != talant_open
    ):
        problems.append(f"alarms/summary counts more than Talant's {talant_open}: {summary}")

    rules = await get("rules")
    if rules is not None:
        mine = {*x.talant_rules.values(), x.metropolis_rule} - {x.talant_rules["to delete"]}
        check("rules", rules, mine, set(x.chenove_rules.values()))
    routes = await get("notification-routes")
    if routes is not None:
        check(
            "notification routes", routes, {x.talant_routes["on"]}, set(x.chenove_routes.values())
        )
    deliveries = await get("notification-deliveries", {"limit": "1000"})
    if deliveries is not None:
        if not deliveries:
            problems.append("notification-deliveries: Talant's are missing")
        check("notification deliveries", deliveries, set(), set())
    teams = await get("teams")
    if teams is not None:
        check("teams", teams, {x.talant_teams["talant"]}, set(x.chenove_teams.values()))

    work = await get("interventions", {"status": ALL_STATUSES, "limit": "1000"})
    if work is not None:
        check("interventions", work["items"], {x.talant_intervention}, {x.chenove_intervention})
    queue = await get("interventions/queue")
    if queue is not None:
        check("queue", queue, {x.talant_intervention}, {x.chenove_intervention})
    detail = await get(f"interventions/{x.talant_intervention}")
    if detail is not None and (len(detail["notes"]) < 2 or len(detail["photos"]) < 2):
        problems.append(f"the Talant intervention lacks its notes or photos: {detail}")

    kpis = await get("kpis", {**FOREVER, "by": "commune"})
    if kpis is not None:
        total = kpis["total"]
        if [g["key"] for g in kpis["groups"]] != [TALANT]:
            problems.append(f"kpis by commune: {[g['key'] for g in kpis['groups']]}")
        if (total["alarms_raised"], total["interventions_created"]) != (talant_alarms, talant_work):
            problems.append(
                f"kpis: {total['alarms_raised']} alarms and {total['interventions_created']} "
                f"interventions, Talant has {talant_alarms} and {talant_work}"
            )
    for by in ("team", "category"):
        await get("kpis", {**FOREVER, "by": by})
    await get("intervention-policies")
    return problems


async def session_problems(
    client: httpx.AsyncClient, actor: str, markers: Markers, expected: set[str]
) -> list[str]:
    """Sign-in and sign-out, the two routes the tables leave out, and a session's view."""
    problems: list[str] = []
    login = await client.post(f"{API}/auth/login", json={"username": actor, "password": PASSWORD})
    assert login.status_code == 200, login.text
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    responses = [
        login,
        await client.get(f"{API}/auth/me"),
        await client.get(f"{API}/assets", params={"limit": "1000"}),
        await client.post(
            f"{API}/groups",
            json={"name": "walk-session", "commune": CHENOVE, "kind": "list"},
            headers=csrf,
        ),
    ]
    for response in responses:
        leaked = leaks(markers, response)
        if leaked:
            problems.append(f"session {response.request.url}: shows {sorted(leaked)}")
    if {a["id"] for a in responses[2].json()["items"]} != expected:
        problems.append("session: the asset listing is not exactly Talant's")
    if responses[3].status_code != 403:
        problems.append(f"session: a Chenôve group answered {responses[3].status_code}")
    logout = await client.post(f"{API}/auth/logout", headers=csrf)
    if logout.status_code != 204 or leaks(markers, logout):
        problems.append(f"logout: {logout.status_code} {logout.text}")
    client.cookies.clear()
    return problems


async def test_a_talant_user_sees_and_changes_nothing_of_chenove(
    runtime: Runtime, system: Context, admin: Person
) -> None:
    app = create_app(runtime)
    # What the lifespan would make (the transport runs none): the public side's limits.
    app.state.rate_limiter = RateLimiter("memory://")
    # A 500 is one more problem to list with the others, not a crash of the walk.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        w = await build_world(client, system, admin)
        talant = await make_person(
            system, w.actor, list(Role), communes=[TALANT], domains=list(Domain)
        )
        # In a team, so that the field queue has something to show.
        url = f"{API}/teams/{w.watch.talant_teams['talant']}/members"
        async with runtime.db.read() as session:
            user_id = await session.scalar(
                text("SELECT id FROM users WHERE username = :u"), {"u": w.actor}
            )
        ok(await client.post(url, json={"user_id": user_id}, headers=admin.headers), 201)
        markers = markers_of(w)
        plan, values = walk_plan(w), foreign_values(w)
        problems = coverage_problems(app, plan, values)
        assert not problems, "\n".join(problems)

        # The checks can see a leak: the admin's own listing is full of Chenôve.
        seen_by_admin = await client.get(f"{API}/assets?limit=1000", headers=admin.headers)
        assert CHENOVE in leaks(markers, seen_by_admin)

        before = await snapshot(runtime)
        problems, sent = await walk(client, plan, values, markers, talant.headers)
        expected = await talant_ids(runtime)
        assert len(expected) >= 5, "the Talant user must have something to see"
        problems += await listings_problems(client, talant.headers, w, expected)
        problems += await command_problems(client, talant.headers, w, markers, expected)
        problems += await watch_problems(client, talant.headers, w, markers, runtime)
        problems += await session_problems(client, w.actor, markers, expected)
        after = await snapshot(runtime)
        # After the snapshot: a public report is anyone's to make, Chenôve's included.
        problems += await public_problems(client, w, markers)
        for name in SNAPSHOT:
            if before[name] != after[name]:
                gone = [r for r in before[name] if r not in after[name]]
                new = [r for r in after[name] if r not in before[name]]
                problems.append(f"database, {name}: removed or changed {gone}, added {new}")

        # A failed sign-in says the same for Chenôve's user as for nobody (it runs after
        # the snapshot: counting failed sign-ins is the point of the counter).
        wrong = {"password": "not the password at all"}
        answers = [
            await client.post(f"{API}/auth/login", json={"username": name, **wrong})
            for name in (w.chenove_user, GHOSTS["username"])
        ]
        chenove_answer, nobody_answer = ((r.status_code, r.json()) for r in answers)
        if chenove_answer != nobody_answer:
            problems.append(f"login tells users apart: {[r.text for r in answers]}")

    await app.state.rate_limiter.close()
    assert sent > 150, f"the walk sent only {sent} requests"
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


# --- the public routes ---------------------------------------------------------------------


def public_values() -> dict[str, list[str]]:
    """The path values the public routes are called with: every dataset, every format."""
    return {"dataset_id": [ds.id for ds in DATASETS], "format": ["csv", "json", "parquet"]}


async def test_public_routes_expose_nothing_scoped_or_personal(
    runtime: Runtime, system: Context, admin: Person
) -> None:
    """Every public route answers without login, says the same to anyone (a Talant user,
    the administrator, nobody: nothing in it depends on a scope), and shows no person,
    account, secret, camera or text typed by people."""
    await build_opendata_world(runtime, system)
    await opendata_service.refresh_all(system)
    talant = await make_person(system, "public-talant", list(Role), communes=[TALANT])
    key, secret = await opendata_keys.create_key(system, "public walk")
    markers = [
        *SECRETS,
        admin.username,
        talant.username,
        admin.token,
        talant.token,
        secret,
        key.prefix,
        "tests",
        "bearer",
        "camera",
    ]
    generous = Runtime(
        runtime.settings.model_copy(update={"opendata_rate_limit": "100000/minute"}), runtime.db
    )
    app = create_app(generous)
    problems: list[str] = []
    sent = 0
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://opendata.example"
        ) as client:
            for (method, path), calls in PUBLIC_ROUTES.items():
                names = path_params(path)
                values = public_values()
                combos: list[dict[str, str]] = [{}]
                for name in names:
                    combos = [{**c, name: v} for c in combos for v in values[name]]
                for given in combos:
                    for call in calls:
                        anonymous = await send(client, method, fill(path, given), call, {})
                        sent += 1
                        where = f"{method} {anonymous.request.url} [{call.label or 'plain'}]"
                        if anonymous.status_code != 200:
                            problems.append(
                                f"{where}: {anonymous.status_code} {anonymous.text[:200]}"
                            )
                        shown = anonymous.content.decode("latin-1").lower()
                        shown += "\n".join(f"{k}: {v}" for k, v in anonymous.headers.items())
                        problems += [f"{where}: shows {m!r}" for m in markers if m.lower() in shown]
                        if "set-cookie" in anonymous.headers:
                            problems.append(f"{where}: sets a cookie")
                        for person in (talant, admin):
                            other = await send(
                                client, method, fill(path, given), call, person.headers
                            )
                            sent += 1
                            if (other.status_code, other.content) != (
                                anonymous.status_code,
                                anonymous.content,
                            ):
                                problems.append(f"{where}: {person.username} gets another answer")
    assert sent > 100
    assert not problems, "\n".join(problems)
