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

The session takes its connection (and, on SQLite, the write lock) at its first statement:
what the block does before (reads through other sessions, a message sent over the
network) holds neither, and is still the use case's, its refusals audited as such.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
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
    action: str
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
        action: str | None = None,
    ) -> None:
        """What the audit entry of this change says (written just before the commit).

        ``target_id``: the target when it is known only now (a new row's id).
        ``action``: the entry's action when it is not the use case's own: a retry is
        audited as the creation it makes, while its refusals are the retry's.
        """
        if target_id is not None:
            self.target_id = str(target_id)
        self._entry = _Entry(
            action or self.action, commune, reason, details, self.target_id, outcome
        )

    def publish(self, *events: DomainEvent) -> None:
        """Events to publish on the hub once the change has committed."""
        self.events.extend(events)


@asynccontextmanager
async def change(
    ctx: Context,
    action: str,
    *,
    target_type: str | None = None,
    target_id: Any = None,
    refused_details: Mapping[str, Any] | None = None,
) -> AsyncIterator[UseCase]:
    """Run the block as one use case named ``action`` (``"command.cancel"``): see the module.

    ``refused_details``: what a refusal's entry names besides the error, when the target
    alone does not say what was asked (the command's name, a batch's type): a refused
    change writes nothing else to tell it.
    """
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
                    entry.action,
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
            details={"error": exc.detail[:500], **(refused_details or {})},
        )
        raise
    ctx.runtime.events.publish_many(case.events)
