"""The engine's disabling of rules whose evaluation failed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlalchemy import select

from beffroi.alarms import raising
from beffroi.core import audit
from beffroi.core.events import DomainEvent
from beffroi.core.principal import Principal
from beffroi.db import Database
from beffroi.rules import states
from beffroi.rules.events import RuleDisabled
from beffroi.rules.models import MonitoringRule
from beffroi.rules.records import commune_of, save_version, touch

ENGINE = "system:rules-engine"
log = structlog.get_logger(__name__)


async def disable_after_error(
    db: Database, failed: Sequence[tuple[int, str]], now: datetime
) -> list[DomainEvent]:
    """Disable rules whose evaluation failed, with their error; clear the alarms they
    hold. Rules already disabled (by another gateway, say) are left alone. Returns the
    hub events."""
    errors: dict[int, str] = {}
    for rule_id, message in failed:
        errors.setdefault(rule_id, message)
    system = Principal.system("rules-engine")
    events: list[DomainEvent] = []
    async with db.write() as session:
        rows = await session.execute(
            select(MonitoringRule)
            .where(MonitoringRule.id.in_(sorted(errors)), MonitoringRule.enabled.is_(True))
            .order_by(MonitoringRule.id)
            .with_for_update()
        )
        signals = []
        for row in rows.scalars():
            message = errors[row.id]
            before = row.definition()
            signals += await states.reset(session, row, now, "rule disabled after an error")
            row.enabled, row.error, row.errored_at = False, message, now
            touch(row, ENGINE, now)
            save_version(session, row, ENGINE, now)
            await audit.record(
                session,
                system,
                "rule.disable",
                target_type="rule",
                target_id=str(row.id),
                commune=commune_of(row.communes),
                reason=message,
                details={"before": before, "after": row.definition(), "version": row.version},
            )
            log.warning("rule disabled after an error", rule=row.key, error=message)
            events.append(RuleDisabled(row.id, row.key, message, row.version, now))
        events += await raising.apply(session, signals, now)
    return events
