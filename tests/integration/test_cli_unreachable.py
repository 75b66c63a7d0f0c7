"""The command line with no database, an unreachable one, or no broker: one line that says
which database (or broker) it tried and which variables choose it, never a traceback.

Every case runs the real ``beffroi`` command in a subprocess, from a folder that is not the
project's (so there is no ``var/`` beside it).
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from beffroi import migrations as migrate
from beffroi.cli.gateway_broker import FIRST_WAIT_S
from tests.conftest import POSTGRES_URL, _skip_or_fail_postgres

VARIABLES = ("BEFFROI_DATA_DIR", "BEFFROI_DATABASE_URL")
# Commands that each open the database first, with what they need to get that far.
COMMANDS = [
    ["user", "list"],
    ["communes", "list"],
    ["audit", "verify"],
    ["fleet", "export", "fleet.csv"],
    ["device", "credentials", "--all", "--out", "secrets.csv"],
    ["serve", "--port", "0"],
    ["gateway", "--broker", "mqtt://127.0.0.1:9"],
    ["scheduler"],
    ["simulate", "--anonymous", "--broker", "mqtt://127.0.0.1:9"],
    ["db", "check"],
]


def _beffroi(
    *args: str, cwd: Path, env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``beffroi ARGS`` in ``cwd``, with no BEFFROI_ variable but those of ``env``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BEFFROI_")}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "beffroi", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """The command failed with exit code 1 and one line of error naming ``words``."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    for word in (*VARIABLES, *words):
        assert word in line, (word, line)
    return line


@contextlib.contextmanager
def _closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound, never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_run_outside_the_project_says_where_it_looked(tmp_path: Path, command: list[str]) -> None:
    result = _beffroi(*command, cwd=tmp_path, env={})
    line = _one_line_error(result, str(tmp_path / "var" / "beffroi.db"), "beffroi db upgrade")
    assert "does not exist" in line
    assert not (tmp_path / "var").exists(), "nothing is created on the way"


def test_a_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    database = tmp_path / "beffroi.db"
    result = _beffroi("user", "list", cwd=tmp_path, env={"BEFFROI_DATA_DIR": str(tmp_path)})
    _one_line_error(result, str(database), "beffroi db upgrade")
    assert not database.exists()


def test_a_database_url_into_a_missing_folder(tmp_path: Path) -> None:
    database = tmp_path / "nowhere" / "x.db"
    env = {"BEFFROI_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    for command in (["db", "upgrade"], ["user", "list"]):
        result = _beffroi(*command, cwd=tmp_path, env=env)
        _one_line_error(result, str(database), "does not exist")


def test_a_database_never_migrated_or_behind(tmp_path: Path) -> None:
    database = tmp_path / "beffroi.db"
    sqlite3.connect(database).close()
    env = {"BEFFROI_DATA_DIR": str(tmp_path)}
    result = _beffroi("user", "list", cwd=tmp_path, env=env)
    _one_line_error(result, str(database), "no Beffroi schema", "beffroi db upgrade")

    head = migrate.current_head()
    assert head is not None
    behind = f"{int(head) - 1:04d}"
    migrate.upgrade(f"sqlite+aiosqlite:///{database}", behind)
    result = _beffroi("communes", "list", cwd=tmp_path, env=env)
    line = _one_line_error(result, str(database), "beffroi db upgrade")
    assert f"at schema {behind} and this Beffroi needs {head}" in line
    upgraded = _beffroi("db", "upgrade", cwd=tmp_path, env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    listed = _beffroi("communes", "list", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr


@pytest.mark.parametrize(
    "command", [["db", "upgrade"], ["user", "list"], ["serve", "--port", "0"], ["demo"]]
)
def test_postgresql_unreachable(tmp_path: Path, command: list[str]) -> None:
    with _closed_port() as port:
        url = f"postgresql+asyncpg://beffroi:s3cret@127.0.0.1:{port}/beffroi"
        result = _beffroi(*command, cwd=tmp_path, env={"BEFFROI_DATABASE_URL": url})
    line = _one_line_error(result, f"127.0.0.1:{port}", "'beffroi'", "connection refused")
    assert "s3cret" not in line, "the password is never shown"


def test_postgresql_database_missing(tmp_path: Path) -> None:
    if not POSTGRES_URL:
        _skip_or_fail_postgres("BEFFROI_TEST_POSTGRES_URL is not set")
    url = make_url(POSTGRES_URL).set(database="beffroi_no_such_database")
    env = {"BEFFROI_DATABASE_URL": url.render_as_string(hide_password=False)}
    for command in (["db", "upgrade"], ["user", "list"]):
        result = _beffroi(*command, cwd=tmp_path, env=env)
        _one_line_error(result, "has no database 'beffroi_no_such_database'", "createdb")


@pytest.fixture
def fleet_dir(tmp_path: Path) -> Path:
    """A migrated SQLite database with a tiny fleet, in a folder of its own."""
    env = {"BEFFROI_DATA_DIR": str(tmp_path)}
    for command in (["db", "upgrade"], ["fleet", "generate", "--scale", "0.002"]):
        done = _beffroi(*command, cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
    return tmp_path


def test_simulate_without_a_broker(fleet_dir: Path) -> None:
    """The simulator stops at once when no device can connect: the broker is wrong."""
    with _closed_port() as port:
        result = _beffroi(
            "simulate", "--anonymous", "--broker", f"mqtt://127.0.0.1:{port}",
            cwd=fleet_dir, env={"BEFFROI_DATA_DIR": str(fleet_dir)},
        )  # fmt: skip
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == result.stderr.strip().splitlines(), result.stderr
    assert len(errors) == 1
    assert f"127.0.0.1:{port}" in errors[0]
    assert "BEFFROI_MQTT_URL" in errors[0]
    assert "--broker" in errors[0]


def test_gateway_without_a_broker_warns_once_and_keeps_trying(fleet_dir: Path) -> None:
    """The gateway keeps trying (a broker restarts): one warning line, not one per try."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BEFFROI_")}
    lines: queue.Queue[str] = queue.Queue()
    with _closed_port() as port:
        process = subprocess.Popen(
            [sys.executable, "-m", "beffroi", "gateway", "--broker", f"mqtt://127.0.0.1:{port}"],
            cwd=fleet_dir,
            env={**environ, "BEFFROI_DATA_DIR": str(fleet_dir), "BEFFROI_LOG_LEVEL": "WARNING"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        stderr = process.stderr

        def read() -> None:
            for line in stderr:
                lines.put(line)

        reader = threading.Thread(target=read)
        reader.start()
        try:
            first = lines.get(timeout=60)
            assert first.startswith("warning:"), first
            assert f"127.0.0.1:{port}" in first
            assert "connection refused" in first
            assert "BEFFROI_MQTT_URL" in first
            # It goes on trying for the same reason, and says nothing more: the next look
            # comes twice the first wait later, so this covers at least one.
            with pytest.raises(queue.Empty):
                lines.get(timeout=2 * FIRST_WAIT_S + 3)
            assert process.poll() is None, "the gateway keeps running"
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                out, _ = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                out, _ = process.communicate()
            reader.join()
    rest = "".join(lines.queue)
    assert "Traceback" not in out + rest, rest
    assert rest.strip() == "", f"one warning only, then:\n{rest}"
    assert process.returncode == 0, "SIGTERM stops the gateway cleanly"
