"""API shapes of the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryOut(BaseModel):
    """One audit entry."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    ts: datetime
    actor: str
    actor_kind: str
    action: str
    target_type: str | None
    target_id: str | None
    commune_code: str | None
    reason: str | None
    outcome: str
    details: dict[str, Any]
    hash: str


class AuditPage(BaseModel):
    """Newest first; pass ``next_before`` as ``before`` for older entries."""

    items: list[AuditEntryOut]
    next_before: int | None


class VerifyOut(BaseModel):
    """The result of checking the hash chain."""

    ok: bool
    checked: int
    problems: list[str]
