"""``beffroi serve`` and ``beffroi demo``."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import socket
from collections.abc import Coroutine
from types import FrameType
from typing import Annotated, Any

import typer
import uvicorn
from fastapi import FastAPI

from beffroi.accounts import service as accounts
from beffroi.accounts.principal import Role
from beffroi.accounts.schemas import UserCreate
from beffroi.assets import service as assets
from beffroi.assets.fleet import generate_fleet
from beffroi.assets.service import AssetFilter
from beffroi.cli.accounts import generate_password
from beffroi.cli.common import console, out, progress_bar, settings
from beffroi.cli.db import upgrade_database
from beffroi.config import Settings
from beffroi.context import Runtime, open_runtime
from beffroi.web.app import create_app

DEMO_ADMIN = "admin"


def bind_socket(host: str, port: int, *, fallback: bool) -> socket.socket:
    """A listening socket on ``port``; with ``fallback``, any free port if it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only for
    # TCP sockets it recognises as such; without it each response waits ~40 ms (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        if not fallback or exc.errno != errno.EADDRINUSE:
            sock.close()
            raise
        console.print(f"[yellow]port {port} is taken; using a free port instead[/yellow]")
        sock.bind((host, 0))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_until_stopped(main: Coroutine[Any, Any, None]) -> None:
    """Run a server until Ctrl-C or SIGTERM, then exit 0: stopping is not a failure."""
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main)
    out.print("Beffroi stopped")


async def serve_app(app: FastAPI, sock: socket.socket, stop: asyncio.Event | None = None) -> None:
    """Serve ``app`` on a bound socket until the process is interrupted or ``stop`` is set."""
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)

    async def _watch(event: asyncio.Event) -> None:
        await event.wait()
        server.should_exit = True

    watcher = asyncio.create_task(_watch(stop)) if stop is not None else None
    try:
        await server.serve(sockets=[sock])
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


async def _serve(runtime: Runtime, sock: socket.socket) -> None:
    host, port = sock.getsockname()[:2]
    out.print(f"Beffroi is serving on [bold]http://{host}:{port}[/bold]  (API docs: /api/docs)")
    await serve_app(create_app(runtime), sock)


def serve(
    host: Annotated[str | None, typer.Option(help="Default: BEFFROI_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Default: BEFFROI_PORT")] = None,
) -> None:
    """Serve the API (and, later, the console)."""
    current = settings()
    sock = bind_socket(host or current.host, current.port if port is None else port, fallback=False)

    async def _main() -> None:
        async with open_runtime(current) as runtime:
            await _serve(runtime, sock)

    run_until_stopped(_main())


async def _prepare_demo(runtime: Runtime) -> str | None:
    """Fleet and admin for a first run; returns the admin password when just created."""
    ctx = runtime.system_context("demo")
    existing, _ = await assets.list_assets(ctx, AssetFilter(limit=1))
    if not existing:
        items = list(enumerate(generate_fleet("dijon", scale=1.0, seed=1), start=1))
        with progress_bar("generating the Dijon fleet") as update:
            await assets.import_assets(ctx, items, source="demo", on_progress=update)
    if any(u.username == DEMO_ADMIN for u in await accounts.list_users(ctx)):
        return None
    password = generate_password()
    await accounts.create_user(
        ctx,
        UserCreate(
            username=DEMO_ADMIN,
            password=password,
            display_name="Demo administrator",
            roles=[Role.ADMIN],
        ),
    )
    return password


def demo(
    port: Annotated[int | None, typer.Option(help="Default: BEFFROI_PORT, or a free one")] = None,
) -> None:
    """The whole control room in one process on embedded defaults, for a first look."""
    current: Settings = settings()
    upgrade_database()
    sock = bind_socket(current.host, current.port if port is None else port, fallback=True)

    async def _main() -> None:
        async with open_runtime(current) as runtime:
            password = await _prepare_demo(runtime)
            if password:
                out.print(
                    f"admin account: [bold]{DEMO_ADMIN}[/bold]  password (shown once): "
                    f"[bold]{password}[/bold]"
                )
            else:
                out.print(
                    f"admin account: {DEMO_ADMIN} (password shown on the first run; "
                    f"`beffroi user reset-password {DEMO_ADMIN}` sets a new one)"
                )
            await _serve(runtime, sock)

    run_until_stopped(_main())
