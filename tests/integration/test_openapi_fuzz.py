"""A schemathesis run against the OpenAPI schema returns no server error.

The real server (``beffroi serve``, uvicorn) runs as a subprocess on a loopback port, on a
copy of the test database holding a small fleet; schemathesis reads ``/api/openapi.json``
and sends every operation its schema examples, boundary cases, random (valid and invalid)
input and sequences of linked calls, as a metropolis-wide administrator. The only check is
"not a server error": anything may be refused, nothing may answer 5xx. On failure the
schemathesis report (each operation and a curl line that reproduces it) is printed with
each distinct error of the server's log (the request, Beffroi's frames, the exception).

``BEFFROI_FUZZ_SEED`` replays (or varies) the run; the default seed keeps CI repeatable.
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
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from sqlalchemy import text

from beffroi.accounts import service as accounts
from beffroi.accounts.principal import Role
from beffroi.accounts.schemas import TokenCreate
from beffroi.assets import importing
from beffroi.assets.fleet import generate_fleet
from beffroi.context import Context
from beffroi.devices.credentials import issue_credentials
from tests.support import Person, make_person

HOST = "127.0.0.1"
# A record of the server's console log starts with its ISO timestamp.
LOG_RECORD = re.compile(r"^(?=\d{4}-\d\d-\d\dT)", re.MULTILINE)
OUR_FRAME = re.compile(r'File ".*[/\\](src|site-packages)[/\\]beffroi[/\\]')
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\w*: ")
SEED = os.environ.get("BEFFROI_FUZZ_SEED", "20240601")
# Per operation, for the fuzzing phase (the coverage phase runs every boundary case the
# schema defines, whatever this says); this keeps a run near 45 s on an idle machine.
MAX_EXAMPLES = 30
START_TIMEOUT_S = 30.0
RUN_TIMEOUT_S = 240.0
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
CONFIG = """
[dictionaries.victim]
values = ["{victim}"]
[dictionaries.victim-token]
values = [{victim_token}]
[dictionaries.device]
values = ["{device}"]

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
"""


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


def server_env(database_url: str, port: int, data_dir: Path) -> dict[str, str]:
    """The environment of the server: ours without any BEFFROI_* setting, then the test's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEFFROI_")}
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
    """A metropolis-wide administrator whose token has an id the fuzzer will not guess."""
    person = await make_person(system, FUZZ_ADMIN, [Role.ADMIN])
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
    token, _ = await accounts.create_token(system, TokenCreate(name="fuzz", username=VICTIM))
    return token.id


async def seed_fleet(system: Context) -> tuple[str, str]:
    """Some equipment, so that listings, filters, exports and groups have rows to work on.

    Returns a streetlight and the secret of its device credential.
    """
    items = list(generate_fleet("dijon", scale=0.005, seed=1))
    await importing.import_assets(system, list(enumerate(items, 1)), source="tests")
    light = next(item.id for item in items if item.type == "streetlight")
    [(device, secret)] = await issue_credentials(system, [light])
    return device, secret


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


async def schemathesis(base: str, token: str, config: str, workdir: Path) -> tuple[int, str]:
    """Run schemathesis against the server; returns its exit code and its output."""
    config_file = workdir / "schemathesis.toml"
    config_file.write_text(config)
    command = [
        executable("schemathesis"),
        "--config-file",
        str(config_file),
        "run",
        f"{base}/api/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        # A fresh connection per request: on a kept-alive one `beffroi serve` answers ~40 ms
        # late (Nagle's algorithm meets delayed ACKs), which would triple the run's time.
        "--header",
        "Connection: close",
        "--checks",
        "not_a_server_error",
        "--phases",
        "examples,coverage,fuzzing,stateful",
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
        *command, cwd=workdir, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
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


async def test_schemathesis_finds_no_server_error(
    database_url: str, system: Context, tmp_path: Path
) -> None:
    admin = await fuzz_admin(system)
    victim = await victim_token(system)
    device, secret = await seed_fleet(system)
    config = CONFIG.format(victim=VICTIM, victim_token=victim, device=device, device_secret=secret)
    workdir = tmp_path / "schemathesis"
    workdir.mkdir()
    log_file = tmp_path / "server.log"
    (tmp_path / "data").mkdir()
    started = time.monotonic()
    async with running_server(database_url, tmp_path / "data", log_file) as base:
        code, output = await schemathesis(base, admin.token, config, workdir)
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
