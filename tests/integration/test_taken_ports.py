"""Ports already taken: ``beffroi demo`` takes others and says so in one line each; commands
told where to listen stop with one line. Never amqtt's traceback of a failed bind."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from amqtt.errors import BrokerError

from beffroi.cli.demo_broker import start_broker
from beffroi.cli.ports import AMQTT_BROKER_LOGGER
from beffroi.core.context import Runtime

TRACEBACK = ("Traceback", "Broker startup failed")


@contextlib.contextmanager
def _taken_port() -> Iterator[int]:
    """A loopback port something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _environ(data_dir: Path, **extra: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BEFFROI_")}
    return {**environ, "BEFFROI_DATA_DIR": str(data_dir), **extra}


def _beffroi(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "beffroi", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_demo_takes_free_ports_and_says_so_in_one_line_each(tmp_path: Path) -> None:
    # A small fleet first: the demo generates the city's only into an empty database.
    for command in (["db", "upgrade"], ["fleet", "generate", "--scale", "0.002"]):
        done = _beffroi(*command, env=_environ(tmp_path))
        assert done.returncode == 0, done.stderr
    with _taken_port() as mqtt, _taken_port() as api:
        env = _environ(tmp_path, BEFFROI_BROKER_PORT=str(mqtt), BEFFROI_PORT=str(api))
        process = subprocess.Popen(
            [sys.executable, "-m", "beffroi", "demo"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output = ""
        try:
            assert process.stdout is not None
            while "serving on" not in output:
                line = process.stdout.readline()
                assert line, f"the demo exited early:\n{output}"
                output += line
        finally:
            process.send_signal(signal.SIGINT)
            try:
                rest, _ = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                rest, _ = process.communicate()
    for word in TRACEBACK:
        assert word not in output + rest, output + rest
    said = re.findall(
        rf"^port {mqtt} is taken, the embedded broker listens on (\d+)$", output, re.M
    )
    assert len(said) == 1, output
    assert f"embedded MQTT broker on mqtt://127.0.0.1:{said[0]}" in output
    served = re.findall(rf"^port {api} is taken, the API listens on (\d+)$", output, re.M)
    assert len(served) == 1, output
    assert f"serving on http://127.0.0.1:{served[0]}" in output
    assert "error" not in output.lower(), output
    assert process.returncode == 0, "Ctrl-C stops the demo cleanly"


async def test_only_the_bind_failure_is_quieted(
    runtime: Runtime, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.WARNING, logger=AMQTT_BROKER_LOGGER)
    with _taken_port() as taken:
        settings = runtime.settings.model_copy(
            update={"broker_host": "127.0.0.1", "broker_port": taken}
        )
        broker = await start_broker(settings, runtime.db)
    port = broker.port
    await broker.stop()
    assert port not in (None, taken)
    assert not [r for r in caplog.records if r.name.startswith("amqtt")], caplog.text
    said = capsys.readouterr().err.strip().splitlines()
    assert said == [f"port {taken} is taken, the embedded broker listens on {port}"]

    # Any other failure to start is amqtt's to tell, traceback included.
    caplog.clear()
    bad = runtime.settings.model_copy(update={"broker_host": "127.0.0.1", "broker_port": 70000})
    with pytest.raises(BrokerError):
        await start_broker(bad, runtime.db)
    failed = [r for r in caplog.records if r.getMessage() == "Broker startup failed"]
    assert len(failed) == 1, caplog.text
    assert failed[0].exc_info
    # The quieting lasted the first start only.
    assert not logging.getLogger(AMQTT_BROKER_LOGGER).filters


@pytest.mark.parametrize(
    ("command", "variable"),
    [
        (["serve", "--port", "{port}"], "BEFFROI_PORT"),
        (["gateway"], "BEFFROI_BROKER_PORT"),
    ],
    ids=["serve", "gateway"],
)
def test_commands_told_where_to_listen_say_the_port_is_taken(
    tmp_path: Path, command: list[str], variable: str
) -> None:
    done = _beffroi("db", "upgrade", env=_environ(tmp_path))
    assert done.returncode == 0, done.stderr
    with _taken_port() as taken:
        env = _environ(tmp_path, BEFFROI_BROKER_PORT=str(taken), BEFFROI_LOG_LEVEL="WARNING")
        result = _beffroi(*(c.format(port=taken) for c in command), env=env)
    for word in TRACEBACK:
        assert word not in result.stdout + result.stderr, result.stderr
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: port {taken} on 127.0.0.1 is taken"), lines[0]
    assert variable in lines[0]
