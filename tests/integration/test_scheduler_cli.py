"""``beffroi scheduler`` as an operator runs it: help, and a run stopped by a signal."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.support import run_cli


async def test_scheduler_help_says_what_it_runs() -> None:
    result = await run_cli("scheduler", "--help")
    assert result.returncode == 0, result.stderr
    assert "scheduled jobs" in result.stdout
    assert "--metrics-port" in result.stdout


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_scheduler_runs_its_jobs_until_a_signal_stops_it_cleanly(
    database_url: str, tmp_path: Path, signum: signal.Signals
) -> None:
    env = {
        **os.environ,
        "BEFFROI_DATABASE_URL": database_url,
        "BEFFROI_DATA_DIR": str(tmp_path),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "beffroi", "scheduler",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    output = ""
    try:
        async with asyncio.timeout(60):
            while "scheduler running" not in output:
                line = (await process.stdout.readline()).decode()
                assert line, f"the scheduler exited early:\n{output}"
                output += line
        assert "scheduled: telemetry.maintenance (every 3600 s)" in output
        process.send_signal(signum)
        async with asyncio.timeout(30):
            rest, _ = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output += rest.decode()
    assert process.returncode == 0, output
    assert "Traceback" not in output
    assert output.rstrip().endswith("scheduler stopped"), output
