"""The command line, as an operator would use it, in subprocesses on both databases."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support import drain, run_cli


@pytest.mark.asyncio
async def test_fleet_users_tokens_export_import(database_url: str, tmp_path: Path) -> None:
    env = {"BEFFROI_DATABASE_URL": database_url, "BEFFROI_DATA_DIR": str(tmp_path)}
    upgraded = await run_cli("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr

    generated = await run_cli("fleet", "generate", "--scale", "0.01", "--seed", "7", env=env)
    assert generated.returncode == 0, generated.stderr
    created = int(re.search(r"(\d+) created", generated.stdout).group(1))  # type: ignore[union-attr]
    assert 300 < created < 450  # 1 % of the Dijon fleet, at least one of each type

    added = await run_cli("user", "add", "ops", "--role", "operator", "--domain", "lighting",
                          "--commune", "Talant", env=env)  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "password (shown once)" in added.stdout
    listed = await run_cli("user", "list", env=env)
    assert "ops" in listed.stdout
    assert "talant" in listed.stdout

    token = await run_cli("token", "create", "ops", "--name", "script", env=env)
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip().splitlines()[-1]
    assert secret.startswith("bfr_")

    export = tmp_path / "fleet.csv"
    exported = await run_cli("fleet", "export", str(export), "--commune", "talant", env=env)
    assert exported.returncode == 0, exported.stderr
    lines = export.read_text().splitlines()
    assert len(lines) > 5
    assert all(",talant," in line for line in lines[1:])

    # A broken row refuses the whole file and names the row and field.
    rows = lines[:3]
    rows[2] = rows[2].replace(",talant,", ",gotham,")
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(rows) + "\n")
    refused = await run_cli("fleet", "import", str(bad), env=env)
    assert refused.returncode == 1
    assert "row 3" in refused.stderr
    assert "commune" in refused.stderr
    skipped = await run_cli("fleet", "import", str(bad), "--skip-invalid", env=env)
    assert skipped.returncode == 0, skipped.stderr
    assert "1 updated, 1 skipped" in skipped.stdout

    disabled = await run_cli("user", "disable", "ops", env=env)
    assert disabled.returncode == 0, disabled.stderr
    verified = await run_cli("audit", "verify", env=env)
    assert verified.returncode == 0, verified.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_demo_serves_a_communes_streetlights(tmp_path: Path) -> None:
    """``beffroi demo`` on embedded defaults: fleet, admin, API; a taken port is replaced."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    env = {
        **os.environ,
        "BEFFROI_DATA_DIR": str(tmp_path),
        "BEFFROI_PORT": str(taken.getsockname()[1]),
    }
    env.pop("BEFFROI_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "beffroi", "demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = ""
        assert process.stdout is not None
        while "serving on" not in output:
            line = process.stdout.readline()
            assert line, f"demo exited early:\n{output}"
            output += line
        # Read on while the demo runs: output nobody reads fills the pipe, and the demo,
        # blocked writing its log, would answer nothing.
        rest = drain(process.stdout)
        assert re.search(r"^port \d+ is taken, the API listens on \d+$", output, re.M), output
        password = re.search(r"password \(shown once\): (\S+)", output).group(1)  # type: ignore[union-attr]
        base = re.search(r"(http://127\.0\.0\.1:\d+)", output).group(1)  # type: ignore[union-attr]
        # The whole city starts at once (its first reports, every job due): a minute.
        with httpx.Client(base_url=base, timeout=60) as http:
            login = http.post(
                "/api/v1/auth/login", json={"username": "admin", "password": password}
            )
            assert login.status_code == 200, login.text
            r = http.get("/api/v1/assets?type=streetlight&commune=Talant&limit=1000")
            assert r.status_code == 200
            items = r.json()["items"]
            assert len(items) > 100
            assert {a["commune"] for a in items} == {"talant"}
            assert {a["type"] for a in items} == {"streetlight"}
    finally:
        taken.close()
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0, "Ctrl-C stops the demo cleanly"
    # A job that failed, a write refused ("database is locked"): logged, not answered.
    log = output + "".join(rest.to_the_end())
    assert "[error" not in log, log
