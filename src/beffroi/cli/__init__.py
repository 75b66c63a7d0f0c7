"""The ``beffroi`` command line. Each command is a thin adapter over a service.

A command's module is imported when that command runs (or when ``beffroi --help`` lists
them all): ``beffroi fleet export`` does not load the broker, the gateway and the web
application, which would double the time every command takes to start.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Any

import typer
from typer.core import TyperGroup

from beffroi import collector
from beffroi.cli.common import run_cli

# Command name -> (module, attribute): a function is one command, a Typer a group of them.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("beffroi.cli.demo", "demo"),
    "serve": ("beffroi.cli.serve", "serve"),
    "gateway": ("beffroi.cli.gateway", "gateway"),
    "scheduler": ("beffroi.cli.scheduler", "scheduler"),
    "simulate": ("beffroi.cli.simulate", "simulate"),
    "db": ("beffroi.cli.db", "app"),
    "fleet": ("beffroi.cli.fleet", "app"),
    "communes": ("beffroi.cli.communes", "app"),
    "user": ("beffroi.cli.accounts", "users"),
    "token": ("beffroi.cli.accounts", "tokens"),
    "audit": ("beffroi.cli.audit", "app"),
    "device": ("beffroi.cli.devices", "app"),
    "opendata": ("beffroi.cli.opendata", "app"),
    "opslog": ("beffroi.cli.opslog", "app"),
    "plans": ("beffroi.cli.plans", "app"),
    "roads": ("beffroi.cli.roads", "app"),
}


def _load(name: str) -> Any:
    module, attribute = COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    # Registered on a group of its own, as on the whole app: a Typer of one command stays
    # a group (``beffroi audit verify``), and each keeps its name and help.
    holder = typer.Typer()
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    return typer.main.get_group(holder).commands[name]


class _Commands(MutableMapping[str, Any]):
    """The commands of :data:`COMMANDS`, each built on first use."""

    def __init__(self) -> None:
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            self._built[name] = _load(name)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)


class LazyGroup(TyperGroup):
    """The top-level group, importing a command's module only when it is asked for."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands()


app = typer.Typer(
    name="beffroi",
    cls=LazyGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Beffroi: the connected control room of a metropolis's public space."""


def main() -> None:
    """Entry point of the ``beffroi`` script."""
    collector.tune()
    run_cli(app)
