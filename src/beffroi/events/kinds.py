"""Every event kind, whichever areas this process happened to import.

A kind is registered when its module is imported (:mod:`beffroi.core.event_kinds`). What
must know them all (the relay, which decodes what other processes send; the TypeScript
generator) calls :func:`load`, which imports each package's ``events`` module: a new area's
events are found without being listed anywhere.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path

import beffroi
from beffroi.core.event_kinds import EventKind, registered


@functools.cache
def load() -> tuple[EventKind, ...]:
    """Every kind of every package's ``events`` module, by name."""
    for root in beffroi.__path__:
        for module in sorted(Path(root).glob("*/events.py")):
            importlib.import_module(f"beffroi.{module.parent.name}.events")
    return registered()
