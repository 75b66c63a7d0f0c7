"""What every command shares: settings, the runtime, and turning errors into messages."""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.process
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, NoReturn, Protocol, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import DBAPIError

from beffroi import collector, logs
from beffroi.cli import reach
from beffroi.cli.ports import PortTaken
from beffroi.config import BrokerUrl, ConfigError, Settings, get_settings
from beffroi.core.context import Context, Runtime, open_runtime
from beffroi.core.errors import BeffroiError, InvalidInput

T = TypeVar("T")
console = Console(stderr=True)
out = Console()


def settings() -> Settings:
    """Validated settings, or exit 2 with the message naming the bad variable."""
    try:
        current = get_settings()
    except ConfigError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    logs.configure(current.log_level, current.log_format)
    return current


def broker_option(text: str) -> BrokerUrl:
    """A ``--broker`` value, parsed; a bad one is a usage error naming the option."""
    try:
        return BrokerUrl.parse(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{exc} (got {text!r})") from None


@asynccontextmanager
async def ready_runtime(current: Settings) -> AsyncIterator[Runtime]:
    """The runtime, once its database is known to be there, reachable and migrated (else
    :class:`DatabaseUnavailable`, which :func:`run_cli` says in one line)."""
    async with open_runtime(current) as runtime:
        await reach.require_ready(runtime)
        yield runtime


def run(job: Callable[[Runtime, Context], Awaitable[T]]) -> T:
    """Run ``job`` with the runtime and a system context named after the OS user."""

    async def _main() -> T:
        async with ready_runtime(settings()) as runtime:
            return await job(runtime, runtime.system_context())

    return asyncio.run(_main())


def fail(message: str, code: int = 1) -> NoReturn:
    """Say what went wrong in one line (never wrapped, never read as markup) and exit."""
    console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    sys.exit(code)


def _unreachable_database(exc: BaseException) -> str | None:
    """One line for a database the command could not open or reach, if that is what
    ``exc`` is."""
    if isinstance(exc, reach.DatabaseUnavailable):
        return str(exc)
    try:
        current = get_settings()
    except ConfigError:
        return None
    return reach.explain(current, exc)


def run_cli(app: typer.Typer) -> None:
    """Run the typer app; domain errors become a clear message and exit code 1, and so
    does a database that is missing, unreachable or not migrated."""
    try:
        app()
    except (reach.DatabaseUnavailable, DBAPIError) as exc:
        message = _unreachable_database(exc)
        if message is None:
            raise
        fail(message)
    except PortTaken as exc:
        fail(str(exc))
    except InvalidInput as exc:
        console.print(f"[red]error:[/red] {exc.detail}")
        for error in exc.errors[:200]:
            console.print(f"  - {error}")
        if len(exc.errors) > 200:
            console.print(f"  … and {len(exc.errors) - 200} more")
        sys.exit(1)
    except BeffroiError as exc:
        console.print(f"[red]error:[/red] {exc.detail}")
        sys.exit(1)
    except ConfigError as exc:
        console.print(f"[red]{exc}[/red]")
        sys.exit(2)


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar; yields the callback services report progress to."""
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def _child(target: Callable[..., object], args: tuple[Any, ...]) -> None:
    collector.tune()
    target(*args)


@contextmanager
def spawned(
    target: Callable[..., object], args: tuple[Any, ...], name: str, grace_s: float = 15.0
) -> Iterator[multiprocessing.process.BaseProcess]:
    """A spawned child process, stopped (SIGTERM, then killed after ``grace_s``) and
    reaped on exit. Arguments travel in memory (pickled), never through a file. The child
    collects garbage as the ``beffroi`` command does (:mod:`beffroi.collector`)."""
    process = multiprocessing.get_context("spawn").Process(
        target=_child, args=(target, args), name=name, daemon=True
    )
    process.start()
    try:
        yield process
    finally:
        if process.is_alive():
            process.terminate()
            process.join(grace_s)
        if process.is_alive():
            process.kill()
            process.join()


class ChainCheck(Protocol):
    """What a walk along a hash chain found (the audit log's, the operations log's)."""

    @property
    def ok(self) -> bool: ...

    checked: int
    problems: list[str]


def say_chain(name: str, unit: str, check: ChainCheck) -> None:
    """Say whether the chain ``name`` is intact; exit 1 naming each break if it is not."""
    if check.ok:
        out.print(f"{name} chain intact: {check.checked} {unit}")
        return
    console.print(f"[red]{name} chain broken[/red] ({check.checked} {unit} checked):")
    for problem in check.problems:
        console.print(f"  - {problem}")
    raise typer.Exit(1)
