"""A schemathesis run against the OpenAPI schema returns no server error.

The real server (``beffroi serve``, uvicorn) runs as a subprocess on a loopback port, on a
copy of the test database holding a small fleet and some commands; schemathesis reads
``/api/openapi.json`` and sends every operation its schema examples, boundary cases, random
(valid and invalid) input and sequences of linked calls, as a metropolis-wide administrator
(who is also a supervisor and a video agent, so that approvals and camera commands run).
The check is "not a server error": anything may be refused, nothing may answer 5xx; the
answers of remote commands must also match their response schema. ``fuzz_hooks.py`` adds
the input outside clients sent (issue 12) to what schemathesis generates, on every route:
non-finite numbers in bodies, strange header values (with a console session, so that the
CSRF token is read), dates far out of range and unknown values in query parameters; its
checks say each is refused, and that no answer carries NaN. On failure the
schemathesis report (each operation and a curl line that reproduces it) is printed with
each distinct error of the server's log (the request, Beffroi's frames, the exception).

``BEFFROI_TEST_FUZZ_SEED`` replays (or varies) the run; the default seed keeps CI repeatable.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from beffroi.accounts import tokens
from beffroi.accounts.schemas import TokenCreate
from beffroi.alarms import raising
from beffroi.alarms.lifecycle import AlarmSource
from beffroi.alarms.signals import AlarmSignal
from beffroi.assets import importing
from beffroi.assets.schemas import AssetCreate
from beffroi.catalogue import CATALOGUE, Domain
from beffroi.commands import jobs
from beffroi.commands import service as commands
from beffroi.commands.schemas import (
    BatchCreate,
    CommandCreate,
    CommuneTarget,
    IdsTarget,
    Target,
)
from beffroi.core.context import Context
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.devices.credentials import issue_credentials
from beffroi.interventions import fieldwork, opening, teams
from beffroi.interventions.lifecycle import Category
from beffroi.interventions.schemas import InterventionCreate, TeamCreate
from beffroi.notifications import routes as notifications
from beffroi.notifications.schemas import RouteCreate
from beffroi.rules import editing as rules
from beffroi.rules.schemas import RuleCreate
from beffroi.simulator.fleet import generate_fleet
from tests.integration import fuzz_setup
from tests.support import Person, make_person

HOST = "127.0.0.1"
# A record of the server's console log starts with its ISO timestamp.
LOG_RECORD = re.compile(r"^(?=\d{4}-\d\d-\d\dT)", re.MULTILINE)
OUR_FRAME = re.compile(r'File ".*[/\\](src|site-packages)[/\\]beffroi[/\\]')
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\w*: ")
SEED = os.environ.get("BEFFROI_TEST_FUZZ_SEED", "20240601")
# Per operation, for the fuzzing phase (the coverage phase runs every boundary case the
# schema defines, whatever this says). With the seed fixed, each run replays the same
# cases: 10 keep both backends' runs (side by side, with the rest of the suite on two
# cores) inside the suite's 15 minutes; BEFFROI_TEST_FUZZ_SEED explores other cases.
MAX_EXAMPLES = 10
# The coverage phase (every boundary the schema defines: the longest strings, the extreme
# numbers, the wrong types; some 11,000 requests, 90 % of a run) is where the databases
# differ, and PostgreSQL, the production database and the stricter one (32-bit integers,
# bounded text, no NUL byte), runs it; the random phase finds what the code gets wrong
# whatever the database, and SQLite runs it. Both phases on both databases would take a
# third of the suite's fifteen minutes on two cores.
PHASES = {
    "sqlite": "examples,fuzzing,stateful",
    "postgresql": "examples,coverage,stateful",
}
START_TIMEOUT_S = 30.0
# The API has grown to some 200 operations (video, open data, reports, NGSI-LD): the run
# takes about four minutes on a loaded machine.
RUN_TIMEOUT_S = 480.0
# Far from the small integers a fuzzer tries first, so DELETE /tokens/{token_id} does not
# revoke the run's own credentials.
FUZZ_TOKEN_ID = 1_234_567_891
FUZZ_ADMIN = "fuzz-admin-q7x"
VICTIM = "fuzz-victim"
# Schemathesis feeds ids seen in responses back into later requests. For the user and
# token operations that would aim them at the run's own account (revoke its token, narrow
# its scope) and turn the rest of the run into a wall of 401s: they get generated values,
# and half the time a victim account and its token, so the deep paths still run.
# Device ingest takes a device's token instead of a person's: most calls name the device
# that token belongs to, so payloads reach the decoder rather than stopping at a 401.
# Remote commands: ids that exist (commands and batches seeded in every state a person can
# act on; assets, types and command names of the catalogue), so most calls reach the
# service rather than stopping at a 404 or a 422; their answers are checked against their
# response schema. The checks are chosen here rather than on the command line, which would
# override the per-operation choice.
CONFIG = """
{hooks}

[checks]
enabled = false
not_a_server_error.enabled = true
{checks}

[dictionaries.victim]
values = ["{victim}"]
[dictionaries.victim-token]
values = [{victim_token}]
[dictionaries.device]
values = ["{device}"]
{seeded}
[dictionaries.asset]
values = {asset_ids}
[dictionaries.type]
values = {types}
[dictionaries.command-name]
values = {command_names}
[dictionaries.commune]
values = {communes}

[[operations]]
include-name = [
    "POST /api/v1/devices/{{device_id}}/telemetry",
    "POST /api/v1/devices/{{device_id}}/events",
]
parameters = {{ "path.device_id" = {{ dictionary = "device", probability = 0.7 }} }}
headers = {{ Authorization = "Bearer {device_secret}" }}

[[operations]]
include-name = "PATCH /api/v1/users/{{username}}"
parameters = {{ "path.username" = {{ dictionary = "victim", probability = 0.5 }} }}
phases.examples.extra-data-sources.responses = false
phases.coverage.extra-data-sources.responses = false
phases.fuzzing.extra-data-sources.responses = false
phases.stateful.enabled = false

[[operations]]
include-name = "DELETE /api/v1/tokens/{{token_id}}"
parameters = {{ "path.token_id" = {{ dictionary = "victim-token", probability = 0.5 }} }}
phases.examples.extra-data-sources.responses = false
phases.coverage.extra-data-sources.responses = false
phases.fuzzing.extra-data-sources.responses = false
phases.stateful.enabled = false

[[operations]]
include-path-regex = "^/api/v1/(commands|command-batches|assets/[^/]+/commands)"
checks.response_schema_conformance.enabled = true

[[operations]]
include-name = "GET /api/v1/commands/{{command_id}}"
parameters = {{ "path.command_id" = {{ dictionary = "command", probability = 0.7 }} }}

[[operations]]
include-path-regex = "^/api/v1/command-batches/[^/]+(/commands)?$"
parameters = {{ "path.batch_id" = {{ dictionary = "batch", probability = 0.7 }} }}
{actions}
[[operations]]
include-name = "GET /api/v1/commands"
[operations.parameters]
"query.asset_id" = {{ dictionary = "asset", probability = 0.3 }}
"query.batch_id" = {{ dictionary = "batch", probability = 0.3 }}
"query.name" = {{ dictionary = "command-name", probability = 0.3 }}
"query.commune" = {{ dictionary = "commune", probability = 0.3 }}

[[operations]]
include-name = "GET /api/v1/assets/{{asset_id}}/commands"
parameters = {{ "path.asset_id" = {{ dictionary = "asset", probability = 0.7 }} }}

[[operations]]
include-name = "POST /api/v1/commands"
[operations.parameters]
"body.asset_id" = {{ dictionary = "asset", probability = 0.8 }}
"body.name" = {{ dictionary = "command-name", probability = 0.8 }}

[[operations]]
include-name = "POST /api/v1/command-batches"
[operations.parameters]
"body.type" = {{ dictionary = "type", probability = 0.8 }}
"body.name" = {{ dictionary = "command-name", probability = 0.8 }}
"body.target.asset_ids[*]" = {{ dictionary = "asset", probability = 0.8 }}
"body.target.cabinet_id" = {{ dictionary = "asset", probability = 0.8 }}
"body.target.commune" = {{ dictionary = "commune", probability = 0.8 }}
"body.target.communes[*]" = {{ dictionary = "commune", probability = 0.8 }}
"""

# Each action on a command or batch takes the ids seeded for it, and no id seen in other
# responses: the run would otherwise cancel everything before it approves anything.
ACTIONS = {
    ("commands", "command_id"): ("approve", "deny", "cancel"),
    ("command-batches", "batch_id"): ("approve", "deny", "cancel", "retry"),
}


def actions_config() -> str:
    """The configuration of the action operations (see ``ACTIONS``), as TOML."""
    blocks = []
    for (path, param), actions in ACTIONS.items():
        for action in actions:
            dictionary = f"{param.removesuffix('_id')}-{action}"
            blocks.append(
                "[[operations]]\n"
                f'include-name = "POST /api/v1/{path}/{{{param}}}/{action}"\n'
                f'parameters."path.{param}" = '
                f'{{ dictionary = "{dictionary}", probability = 0.8 }}\n'
                "phases.examples.extra-data-sources.responses = false\n"
                "phases.coverage.extra-data-sources.responses = false\n"
                "phases.fuzzing.extra-data-sources.responses = false\n"
            )
    return "\n".join(blocks)


def executable(name: str) -> str:
    """A console script of this virtualenv (or, failing that, on the PATH)."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is not installed (pip install -e '.[dev]')"
    return found


def free_port() -> int:
    """A port nobody listens on now (a short race with other processes is accepted)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# Notification routes send webhooks to whatever URL the fuzzer gave them: through a proxy
# on a loopback port nobody listens on, every one fails at once and nothing leaves the
# machine (httpx honours the *_PROXY variables; e-mail needs an SMTP host, left unset).
DEAD_PROXY = "http://127.0.0.1:9"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def server_env(database_url: str, port: int, data_dir: Path) -> dict[str, str]:
    """The environment of the server: ours without any BEFFROI_* setting or proxy, then
    the test's (see ``DEAD_PROXY``)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("BEFFROI_") and k.lower() not in PROXY_VARIABLES
    }
    for name in PROXY_VARIABLES[:3]:
        env[name] = env[name.upper()] = DEAD_PROXY
    env.update(
        BEFFROI_DATABASE_URL=database_url,
        BEFFROI_HOST=HOST,
        BEFFROI_PORT=str(port),
        BEFFROI_DATA_DIR=str(data_dir),
        BEFFROI_LOG_FORMAT="console",
        BEFFROI_LOG_LEVEL="INFO",
    )
    return env


async def fuzz_admin(system: Context) -> Person:
    """A metropolis-wide administrator whose token has an id the fuzzer will not guess;
    a supervisor too (to approve what the seed asked for) and a video agent (cameras)."""
    roles = [Role.ADMIN, Role.SUPERVISOR, Role.VIDEO_AGENT]
    person = await make_person(system, FUZZ_ADMIN, roles, domains=list(Domain))
    async with system.db.write() as session:
        await session.execute(
            text(
                "UPDATE api_tokens SET id = :new "
                "WHERE user_id = (SELECT id FROM users WHERE username = :username)"
            ),
            {"new": FUZZ_TOKEN_ID, "username": FUZZ_ADMIN},
        )
    return person


async def victim_token(system: Context) -> int:
    """A Talant viewer for the run to change and revoke; returns its token's id."""
    await make_person(system, VICTIM, [Role.VIEWER], communes=["talant"])
    token, _ = await tokens.create_token(system, TokenCreate(name="fuzz", username=VICTIM))
    return token.id


async def seed_fleet(system: Context) -> tuple[list[AssetCreate], str, str]:
    """Some equipment, so that listings, filters, exports and groups have rows to work on.

    Returns the equipment, a streetlight and the secret of its device credential.
    """
    items = list(generate_fleet("dijon", scale=0.005, seed=1))
    await importing.import_assets(system, list(enumerate(items, 1)), source="tests")
    light = next(item.id for item in items if item.type == "streetlight")
    [(device, secret)] = await issue_credentials(system, [light])
    return items, device, secret


async def seed_commands(system: Context, items: Sequence[AssetCreate]) -> dict[str, list[str]]:
    """Commands and batches for the run to read and act on, asked for by the system (so
    the fuzzing supervisor is not their requester). Returns their ids: every command and
    batch, and for each action (approve, deny, cancel, retry) a set of its own in the
    state it takes, so that no other action uses them up first."""
    light = next(i for i in items if i.type == "streetlight")
    bollard = next(i.id for i in items if i.type == "bollard")
    lights = [i.id for i in items if i.type == "streetlight" and i.commune == light.commune]

    async def command(name: str, asset_id: str, **extra: object) -> str:
        body = CommandCreate.model_validate({"asset_id": asset_id, "name": name} | extra)
        return (await commands.send_command(system, body)).id

    async def batch(asset_type: str, name: str, target: Target, **extra: object) -> str:
        body = BatchCreate.model_validate(
            {"type": asset_type, "name": name, "target": target} | extra
        )
        return (await commands.create_batch(system, body)).id

    why = {"reason": "fuzz"}
    dim = {"params": {"level_pct": 60}}
    the_lights = IdsTarget(kind="ids", asset_ids=lights)
    the_bollard = IdsTarget(kind="ids", asset_ids=[bollard])
    out: dict[str, list[str]] = {
        # Critical, so awaiting approval.
        "command-approve": [await command("raise", bollard, **why) for _ in range(2)],
        "command-deny": [await command("lower", bollard, **why) for _ in range(2)],
        "command-cancel": [
            await command("dim", light.id, params={"level_pct": p}) for p in (20, 40)
        ],
        "batch-approve": [
            await batch("bollard", "raise", the_bollard, **why),
            await batch(
                "streetlight",
                "switch",
                CommuneTarget(kind="commune", commune=light.commune),
                params={"on": False},
                reason="fuzz",
            ),
        ],
        "batch-deny": [await batch("bollard", "lower", the_bollard, **why) for _ in range(2)],
        "batch-cancel": [await batch("streetlight", "dim", the_lights, **dim) for _ in range(2)],
        # Their children expire: what a retry takes.
        "batch-retry": [
            await batch("streetlight", "dim", the_lights, **dim, timeout_s=5, expires_in_s=5)
            for _ in range(2)
        ],
    }
    closed = await jobs.close_overdue(system.db, utcnow() + timedelta(seconds=30))
    assert closed.expired == 2 * len(lights), closed
    out["command"] = [c for k, v in out.items() if k.startswith("command-") for c in v]
    out["batch"] = [b for k, v in out.items() if k.startswith("batch-") for b in v]
    return out


# A PNG as far as the photo check looks (its first bytes).
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64
# Alarms, monitoring rules, notification routes, teams, interventions and their photos:
# the fuzzer cannot raise an alarm (devices do) and mostly fails to make the others (their
# bodies are strict), so without seeded ids these operations would stop at 404s. Each
# takes seeded ids (never the run's own data, which it may reach through links) part of
# the time, so that acknowledging, commenting, clearing, assigning, linking and moving
# work orders reach the service.
WATCH_PARAMETERS = {
    "alarm": ("alarm_id", "^/api/v1/alarms/[{]alarm_id"),
    "rule": ("rule_id", "^/api/v1/rules/[{]rule_id"),
    "route": ("route_id", "^/api/v1/notification-routes/[{]route_id"),
    "team": ("team_id", "^/api/v1/teams/[{]team_id"),
    "intervention": ("intervention_id", "^/api/v1/interventions/[{]intervention_id"),
    "photo": ("photo_id", "^/api/v1/interventions/[{]intervention_id[}]/photos/[{]photo_id"),
}


async def seed_watch(system: Context, items: Sequence[AssetCreate]) -> dict[str, list[int]]:
    """Alarms on some lights (one of them cleared), a rule, a notification route (its
    webhook goes nowhere, see ``DEAD_PROXY``), a team covering the lights' commune and an
    intervention of that team with a photo. Returns their ids by kind."""
    lights = [i for i in items if i.type == "streetlight"][:4]
    commune = lights[0].commune
    now = utcnow()
    signals = [AlarmSignal(a.id, "lampFailure", True, now, AlarmSource.DEVICE) for a in lights]
    later = now + timedelta(seconds=1)
    async with system.db.write() as session:
        await raising.apply(session, signals, now)
    async with system.db.write() as session:
        cleared = AlarmSignal(lights[-1].id, "lampFailure", False, later, AlarmSource.DEVICE)
        await raising.apply(session, [cleared], later)
    async with system.db.read() as session:
        alarms = list((await session.execute(text("SELECT id FROM alarms ORDER BY id"))).scalars())
    rule = await rules.create_rule(
        system,
        RuleCreate.model_validate(
            {
                "key": "fuzz-hot-lights",
                "name": "Hot lights",
                "kind": "threshold",
                "asset_type": "streetlight",
                "params": {"key": "power_w", "op": ">", "value": 100, "clear_value": 80},
            }
        ),
    )
    route = await notifications.create_route(
        system,
        RouteCreate.model_validate(
            {"name": "fuzz-route", "channel": "webhook", "target": "http://hooks.invalid/fuzz"}
        ),
    )
    team = await teams.create_team(
        system, TeamCreate(name="fuzz-team", categories=list(Category), communes=[commune])
    )
    work = await opening.create_intervention(
        system,
        InterventionCreate(
            category=Category.LIGHTING,
            title="fuzz",
            asset_id=lights[0].id,
            team_id=team.id,
            alarm_ids=alarms[:1],
        ),
    )
    photo = await fieldwork.add_photo(system, work.id, "image/png", PNG)
    return {
        "alarm": alarms,
        "rule": [rule.id],
        "route": [route.id],
        "team": [team.id],
        "intervention": [work.id],
        "photo": [photo.id],
    }


def watch_config(seeded: dict[str, list[int]]) -> str:
    """The dictionaries and operations of ``WATCH_PARAMETERS``, as TOML; the answers of
    these areas are checked against their response schema too."""
    blocks = [
        "[[operations]]\n"
        'include-tag-regex = "^(alarms|rules|notifications|interventions)$"\n'
        "checks.response_schema_conformance.enabled = true\n"
    ]
    for kind, (param, regex) in WATCH_PARAMETERS.items():
        blocks.append(
            f"[dictionaries.{kind}]\nvalues = {seeded[kind]}\n\n"
            "[[operations]]\n"
            f"include-path-regex = '{regex}'\n"
            f'parameters."path.{param}" = {{ dictionary = "{kind}", probability = 0.6 }}\n'
        )
    return "\n".join(blocks)


def toml_strings(values: Iterable[str]) -> str:
    """A TOML array of strings (the values are plain identifiers)."""
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


async def stop(process: asyncio.subprocess.Process) -> None:
    """Terminate a subprocess and wait for it; kill it if it will not go."""
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 10)
    except TimeoutError:
        process.kill()
        await process.wait()


@contextlib.asynccontextmanager
async def running_server(database_url: str, data_dir: Path, log_file: Path) -> AsyncIterator[str]:
    """``beffroi serve`` on a free loopback port until the block ends; yields its base URL.

    The server is stopped however the block ends (failure, timeout, cancellation).
    """
    port = free_port()
    with log_file.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            executable("beffroi"),
            "serve",
            env=server_env(database_url, port, data_dir),
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            base = f"http://{HOST}:{port}"
            await wait_until_up(process, base, log_file)
            yield base
        finally:
            await stop(process)


async def wait_until_up(process: asyncio.subprocess.Process, base: str, log_file: Path) -> None:
    """Poll ``/api/health`` until it answers; fail with the server's log if it never does."""
    deadline = time.monotonic() + START_TIMEOUT_S
    async with httpx.AsyncClient(base_url=base, timeout=2) as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                break
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/api/health")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"beffroi serve did not come up:\n{read_log(log_file)}")


async def schemathesis(
    base: str, setup: str, config: str, workdir: Path, phases: str
) -> tuple[int, str]:
    """Run schemathesis against the server; returns its exit code and its output.

    Its credentials, and the input classes it adds to its own, come from ``fuzz_hooks.py``
    (given ``setup``, see ``fuzz_setup.py``)."""
    config_file = workdir / "schemathesis.toml"
    config_file.write_text(config)
    command = [
        executable("schemathesis"),
        "--config-file",
        str(config_file),
        "run",
        f"{base}/api/openapi.json",
        # A fresh connection per request: on a kept-alive one `beffroi serve` answers ~40 ms
        # late (Nagle's algorithm meets delayed ACKs), which would triple the run's time.
        "--header",
        "Connection: close",
        "--phases",
        phases,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        SEED,
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        # Hypothesis' health checks judge the generator, not the API: they must not fail this.
        "--suppress-health-check",
        "all",
        "--no-color",
    ]
    # Run in a scratch directory: nothing is left behind in the working tree.
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=workdir,
        env={**os.environ, fuzz_setup.SETUP_VARIABLE: setup},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT_S)
    except TimeoutError:
        await stop(process)
        return -1, f"schemathesis did not finish within {RUN_TIMEOUT_S} s"
    finally:
        await stop(process)
    return process.returncode or 0, output.decode(errors="replace")


def read_log(path: Path) -> str:
    """A log file's text (small enough to read at once, even from a coroutine)."""
    return path.read_text(errors="replace")


def server_errors(log: str) -> str:
    """Each distinct error the server logged: the request, Beffroi's frames, the exception.

    Framework frames are left out (the whole log is beside the test's tmp_path).
    """
    out: dict[str, str] = {}
    for block in LOG_RECORD.split(log):
        if "unhandled error" not in block:
            continue
        lines = block.splitlines()
        ours = [line for line in lines if OUR_FRAME.search(line)]
        raised = [line for line in lines if EXCEPTION_LINE.match(line)]
        key = f"{lines[0].split('unhandled error')[-1].strip()} {raised[-1:] or ''}"
        out.setdefault(key, "\n".join([lines[0], *ours, *raised]))
    return "\n\n".join(out.values()) or "(no error logged)"


@pytest.mark.timeout(RUN_TIMEOUT_S + 120)
async def test_schemathesis_finds_no_server_error(
    database_url: str, backend: str, system: Context, tmp_path: Path
) -> None:
    admin = await fuzz_admin(system)
    victim = await victim_token(system)
    items, device, secret = await seed_fleet(system)
    seeded = await seed_commands(system, items)
    watch = await seed_watch(system, items)
    # Every type with commands and one asset of each; a commune with a bollard and lights.
    types = sorted({i.type for i in items if CATALOGUE.require(i.type).commands})
    session = await fuzz_setup.session_cookie(system, FUZZ_ADMIN)
    config = CONFIG.format(
        hooks=fuzz_setup.hooks_line(),
        checks=fuzz_setup.checks_lines(),
        victim=VICTIM,
        victim_token=victim,
        device=device,
        device_secret=secret,
        seeded="\n".join(
            f"[dictionaries.{k}]\nvalues = {toml_strings(v)}" for k, v in seeded.items()
        ),
        actions=actions_config(),
        asset_ids=toml_strings(next(i.id for i in items if i.type == t) for t in types),
        types=toml_strings(types),
        command_names=toml_strings(
            sorted({c.name for t in types for c in CATALOGUE.require(t).commands})
        ),
        communes=toml_strings(sorted({i.commune for i in items if i.type == "bollard"})),
    )
    config += "\n" + watch_config(watch)
    workdir = tmp_path / "schemathesis"
    workdir.mkdir()
    log_file = tmp_path / "server.log"
    (tmp_path / "data").mkdir()
    started = time.monotonic()
    async with running_server(database_url, tmp_path / "data", log_file) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            openapi = (await client.get("/api/openapi.json")).json()
        setup = fuzz_setup.setup(admin.token, session, items, openapi)
        code, output = await schemathesis(base, setup, config, workdir, PHASES[backend])
        async with httpx.AsyncClient(base_url=base, headers=admin.headers) as client:
            try:
                me = (await client.get("/api/v1/auth/me")).text
            except httpx.TransportError as exc:
                me = f"the server is gone: {exc!r}"
    elapsed = time.monotonic() - started
    errors = server_errors(read_log(log_file))
    report = f"{output}\n--- errors in the server log ({log_file}) ---\n{errors}"
    assert code == 0, f"schemathesis failed (exit {code}, {elapsed:.0f} s):\n{report}"
    # Without this, a run that locked itself out (or narrowed its own scope) would pass on a
    # wall of 401s and 404s.
    assert '"communes":null' in me, f"the run lost its credentials or its scope: {me}\n{report}"
