"""What the commands area tells the event hub: one event per transition."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CommandChanged:
    """A command entered a state, or its verification changed."""

    command_id: str
    asset_id: str
    batch_id: str | None
    name: str
    state: str
    verification: str
    at: datetime


@dataclass(frozen=True, slots=True)
class BatchChanged:
    """A group command was created, approved, refused, cancelled or expired."""

    batch_id: str
    state: str
    at: datetime
