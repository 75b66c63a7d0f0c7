"""The demo's children (its broker, its fleet): Ctrl-C is their parent's to handle; they
stop when the parent sends SIGTERM or when it is gone (its end of the lifeline closed),
never living on as orphans."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from beffroi.cli.children import lifeline, run_child
from beffroi.cli.common import spawned


def _child(line: Connection) -> None:
    async def _main(stop: asyncio.Event) -> None:
        line.send("ready")
        await stop.wait()

    run_child(_main, line)


def _ended(process: BaseProcess, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not process.is_alive():
            return True
        time.sleep(0.05)
    return False


def test_a_child_ignores_ctrl_c_and_stops_when_its_parent_is_gone() -> None:
    ours, theirs = lifeline()
    with spawned(_child, (theirs,), "child-test") as child:
        theirs.close()
        assert ours.poll(60)
        assert ours.recv() == "ready"
        assert child.pid is not None
        os.kill(child.pid, signal.SIGINT)
        assert not _ended(child, 1.0), "Ctrl-C stopped the child: the parent's to handle"
        ours.close()  # as when the parent dies, even killed
        assert _ended(child, 10.0)
    assert child.exitcode == 0


def test_a_child_stops_cleanly_on_sigterm() -> None:
    ours, theirs = lifeline()
    with ours, spawned(_child, (theirs,), "child-test") as child:
        theirs.close()
        assert ours.poll(60)
        assert ours.recv() == "ready"
        child.terminate()
        assert _ended(child, 10.0)
        assert child.exitcode == 0
