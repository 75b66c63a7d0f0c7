"""The demo's child processes (its broker, its fleet): stopped by their parent, in order.

Ctrl-C in a terminal signals the whole process group at once. Were the children to stop
on it, the broker would go while the gateway still sends, and the fleet's 2,000 farewells
would reach a gateway shutting down. So a child ignores Ctrl-C and stops when its parent
says so (SIGTERM, sent once the parent's own tasks are done) or is gone: the parent holds
one end of a pipe, the lifeline, and a child whose end reads nothing more (the parent
died, even killed) stops rather than live on as an orphan holding its port.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import signal
import threading
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection

from beffroi.core import process


def lifeline() -> tuple[Connection, Connection]:
    """(the parent's end, the child's end) of a lifeline; the parent keeps its end open
    while the child runs. The child may also send on its end (its port, say)."""
    parent, child = multiprocessing.get_context("spawn").Pipe(duplex=True)
    return parent, child


def _watch(line: Connection, loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    with contextlib.suppress(EOFError, OSError):
        while True:
            line.recv()
    with contextlib.suppress(RuntimeError):  # the loop may be closed by now
        loop.call_soon_threadsafe(stop.set)


def run_child(main: Callable[[asyncio.Event], Awaitable[None]], line: Connection) -> None:
    """Run ``main(stop)`` in this child process until its parent stops it (SIGTERM) or
    its lifeline ``line`` breaks; Ctrl-C is the parent's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    async def _main(stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        threading.Thread(target=_watch, args=(line, loop, stop), daemon=True).start()
        await main(stop)

    process.run(_main, signals=(signal.SIGTERM,))
