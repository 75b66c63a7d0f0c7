"""One way to write a use case that changes state.

Every such use case does the same four things, which this module does once:

1. run in one transaction, committed whole or not at all;
2. append its audit entry inside that transaction (who, what, target, commune, why);
3. if it is refused (bad input, no right, wrong state: a :class:`BeffroiError`), roll
   back and audit the refusal, in a transaction of its own, then raise;
4. publish its events on the hub once, and only once, the transaction committed.

Usage::

    async def cancel(ctx: Context, command_id: str, reason: str | None) -> CommandOut:
        async with change(ctx, "command.cancel", target_type="command", target_id=command_id) as uc:
            ctx.principal.require(Permission.COMMAND_SEND)
            row = await load(uc.session, ctx, command_id)
            ...
            uc.audit(commune=row.commune_code, reason=reason, details={"state": row.state})
            uc.publish(*events)
        return CommandOut.model_validate(row)

A use case that changes nothing worth auditing (it only raises events, say) leaves out
``uc.audit``; a refusal is audited all the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core import audit
from beffroi.core.context import Context
from beffroi.core.errors import BeffroiError
from beffroi.core.events import DomainEvent


@dataclass(slots=True)
class _Entry:
    commune: str | None
    reason: str | None
    details: dict[str, Any] | None
    target_id: str | None
    outcome: str


@dataclass(slots=True)
class UseCase:
    """A use case under way: its session, and what it will audit and publish."""

    ctx: Context
    session: AsyncSession
    action: str
    target_type: str | None
    target_id: str | None
    events: list[DomainEvent] = field(default_factory=list)
    _entry: _Entry | None = None

    def audit(
        self,
        *,
        commune: str | None = None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        target_id: Any = None,
        outcome: str = audit.Outcome.SUCCESS,
    ) -> None:
        """What the audit entry of this change says (written just before the commit)."""
        if target_id is not None:
            self.target_id = str(target_id)
        self._entry = _Entry(commune, reason, details, self.target_id, outcome)

    def publish(self, *events: DomainEvent) -> None:
        """Events to publish on the hub once the change has committed."""
        self.events.extend(events)


@asynccontextmanager
async def change(
    ctx: Context, action: str, *, target_type: str | None = None, target_id: Any = None
) -> AsyncIterator[UseCase]:
    """Run the block as one use case named ``action`` (``"command.cancel"``): see the module."""
    target = None if target_id is None else str(target_id)
    try:
        async with ctx.db.write() as session:
            case = UseCase(ctx, session, action, target_type, target)
            yield case
            entry = case._entry
            if entry is not None:
                await audit.record(
                    session,
                    ctx.principal,
                    action,
                    target_type=target_type,
                    target_id=entry.target_id,
                    commune=entry.commune,
                    reason=entry.reason,
                    outcome=entry.outcome,
                    details=entry.details,
                )
    except BeffroiError as exc:
        await audit.record_alone(
            ctx.db,
            ctx.principal,
            f"{action}.refused",
            target_type=target_type,
            target_id=target,
            outcome=audit.Outcome.DENIED,
            details={"error": exc.detail[:500]},
        )
        raise
    ctx.runtime.events.publish_many(case.events)
