"""What the rules area tells the event hub."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RuleChanged:
    """A person created, changed, enabled or deleted a rule (``action``)."""

    rule_id: int
    key: str
    action: str
    version: int
    enabled: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class RuleDisabled:
    """The engine disabled a rule whose evaluation failed."""

    rule_id: int
    key: str
    error: str
    version: int
    at: datetime
