"""What the rules area tells the event hub."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from beffroi.core.event_kinds import kind
from beffroi.core.events import DomainEvent


@kind("rule")
@dataclass(frozen=True, slots=True)
class RuleChanged(DomainEvent):
    """A person created, changed, enabled or deleted a rule (``action``)."""

    rule_id: int
    key: str
    action: str
    version: int
    enabled: bool
    at: datetime


@kind("rule_disabled")
@dataclass(frozen=True, slots=True)
class RuleDisabled(DomainEvent):
    """The engine disabled a rule whose evaluation failed."""

    rule_id: int
    key: str
    error: str
    version: int
    at: datetime
