"""What the commands area tells the event hub: one event per transition."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from beffroi.commands.lifecycle import CommandState, Verification
from beffroi.core.event_kinds import kind
from beffroi.core.events import DomainEvent


@kind("command", relayed=True, console=True)
@dataclass(frozen=True, slots=True)
class CommandChanged(DomainEvent):
    """A command entered a state, or its verification changed."""

    command_id: str
    asset_id: str
    batch_id: str | None
    name: str
    state: CommandState
    verification: Verification
    at: datetime


@kind("batch", relayed=True)
@dataclass(frozen=True, slots=True)
class BatchChanged(DomainEvent):
    """A group command was created, approved, refused, cancelled or expired."""

    batch_id: str
    state: str
    at: datetime
