"""What any source tells the alarm area: a condition on an asset began or ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from beffroi.alarms.lifecycle import AlarmSource
from beffroi.catalogue import Severity


@dataclass(frozen=True, slots=True)
class AlarmSignal:
    """A condition of ``alarm_type`` on ``asset_id`` is active (or no longer is) at ``ts``.

    ``severity`` ``None`` means the catalogue's (the fault code's) severity, else major.
    Several signals for one (asset, type) in a batch are applied in ``ts`` order.
    """

    asset_id: str
    alarm_type: str
    active: bool
    ts: datetime
    source: AlarmSource
    severity: Severity | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    rule_id: int | None = None
