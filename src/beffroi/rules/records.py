"""A monitoring rule's row: who sees it, loading it, and its versions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.context import Context
from beffroi.core.errors import Conflict, NotFound, PermissionDenied
from beffroi.core.principal import Principal
from beffroi.rules.models import MonitoringRule, RuleVersion


def sees(principal: Principal, communes: Sequence[str] | None) -> bool:
    """A metropolis-wide rule is visible to all (it names no commune); a rule limited to
    communes, to whoever sees them all (as a group command is): its list would otherwise
    show communes outside the reader's scope."""
    return communes is None or principal.covers(communes)


def require_scope(principal: Principal, communes: Sequence[str] | None) -> None:
    """Refuse (403) a rule applying to communes outside the principal's scope."""
    if not principal.covers(communes):
        where = f"communes {sorted(communes)}" if communes is not None else "every commune"
        raise PermissionDenied(
            f"a rule applying to {where} is outside the scope of {principal.name}"
        )


def commune_of(communes: Sequence[str] | None) -> str | None:
    """The commune an audit entry is filed under: the rule's only one, if so."""
    return communes[0] if communes is not None and len(communes) == 1 else None


async def load(session: AsyncSession, ctx: Context, rule_id: int, *, lock: bool) -> MonitoringRule:
    """A rule the caller sees, else not found."""
    stmt = select(MonitoringRule).where(MonitoringRule.id == rule_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None or not sees(ctx.principal, row.communes):
        raise NotFound(f"rule {rule_id} not found")
    return row


def save_version(session: AsyncSession, row: MonitoringRule, by: str, now: datetime) -> None:
    """Keep the rule's current definition as its version ``row.version``."""
    session.add(
        RuleVersion(
            rule_id=row.id,
            version=row.version,
            definition=row.definition(),
            changed_by=by,
            changed_at=now,
        )
    )


def touch(row: MonitoringRule, by: str, now: datetime) -> None:
    """Count a change to the rule: its next version, when and by whom."""
    row.version += 1
    row.updated_at = now
    row.updated_by = by


def refuse_stale(row: MonitoringRule, version: int | None) -> None:
    """Refuse (409) a change made to a version that is no longer the rule's."""
    if version is not None and version != row.version:
        raise Conflict(
            f"rule {row.id} is at version {row.version}, not {version}",
            current_version=row.version,
        )
