"""``beffroi serve``, and what every serving command shares: sockets, signals, uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Annotated

import typer
import uvicorn

from beffroi import workers
from beffroi.cli.common import console, out, ready_runtime, settings
from beffroi.cli.ports import PortTaken
from beffroi.core import process
from beffroi.core.context import Runtime

if TYPE_CHECKING:
    from fastapi import FastAPI


def build_app(runtime: Runtime, *, operations_only: bool = False) -> FastAPI:
    """The web application serving ``runtime``. Imported here, on first use: every area's
    API is most of what the command line loads, and commands that serve nothing (``user
    list``, ``db check``) start in a fraction of the time without it."""
    if operations_only:
        from beffroi.web.operations_app import create_operations_app

        return create_operations_app(runtime)
    from beffroi.web.app import create_app

    return create_app(runtime)


def bind_socket(
    host: str,
    port: int,
    *,
    fallback: bool,
    instead: str = "set BEFFROI_PORT (or --port) to a free one",
) -> socket.socket:
    """A listening socket on ``port``; with ``fallback``, any free port if it is taken,
    else :class:`PortTaken` saying what to do ``instead``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only for
    # TCP sockets it recognises as such; without it each response waits ~40 ms (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            sock.close()
            raise
        if not fallback:
            sock.close()
            raise PortTaken(f"port {port} on {host} is taken: {instead}") from None
        sock.bind((host, 0))
        console.print(
            f"[yellow]port {port} is taken, the API listens on {sock.getsockname()[1]}[/yellow]",
            soft_wrap=True,
        )
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def run_until_stopped(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run ``main(stop)`` until Ctrl-C or SIGTERM sets ``stop``; stopping is not a failure."""
    process.run(main)
    out.print("Beffroi stopped")


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the command owns Ctrl-C and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_app(app: FastAPI, sock: socket.socket, stop: asyncio.Event) -> None:
    """Serve ``app`` on a bound socket until ``stop`` is set."""
    server = _Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))

    async def _watch() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.create_task(_watch())
    try:
        await server.serve(sockets=[sock])
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


def serve(
    host: Annotated[str | None, typer.Option(help="Default: BEFFROI_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Default: BEFFROI_PORT")] = None,
) -> None:
    """Serve the API, the operator console and the public portal."""
    current = settings()
    sock = bind_socket(host or current.host, current.port if port is None else port, fallback=False)

    async def _main(stop: asyncio.Event) -> None:
        async with ready_runtime(current) as runtime, process.Process(stop) as serving:
            host, port = sock.getsockname()[:2]
            out.print(f"Beffroi is serving on [bold]http://{host}:{port}[/bold]  (docs: /api/docs)")
            workers.start(serving, runtime, command_clock=True)
            # The API stopping (Ctrl-C, or failing to start) stops the workers.
            serving.start("api", serve_app(build_app(runtime), sock, stop), essential=True)

    run_until_stopped(_main)
