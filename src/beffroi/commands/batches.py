"""Group commands: one command to many assets (one child command per target, all written
or none), and the decisions on a whole batch: approve, refuse, cancel, retry.

A batch's children move together, by one statement each way: a batch may hold the whole
city. Every decision is audited in the transaction that makes it, and every refusal on
its own.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import and_, case, func, select, update

from beffroi.assets.service import AssetFilter, asset_refs
from beffroi.catalogue import CATALOGUE
from beffroi.commands import creation, history, policy, targets, wakeup
from beffroi.commands.events import BatchChanged
from beffroi.commands.lifecycle import OPEN, BatchState, CommandState, Verification
from beffroi.commands.models import Command, CommandBatch
from beffroi.commands.reading import batch_out, batch_shape, load_batch
from beffroi.commands.schemas import BatchCreate, BatchOut, CommuneTarget, IdsTarget
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import UseCase, change
from beffroi.db import Base

RETRYABLE = frozenset({CommandState.FAILED, CommandState.EXPIRED, CommandState.REJECTED})


async def create_batch(ctx: Context, body: BatchCreate) -> BatchOut:
    """One command to many assets: one child command per target, all written or none."""
    async with change(
        ctx,
        "command_batch.create",
        target_type="command_batch",
        refused_details={"name": body.name, "type": body.type},
    ) as uc:
        return await _create_batch(uc, body)


async def create_batch_in(uc: UseCase, body: BatchCreate) -> str:
    """Write a batch inside another area's use case under way (one transaction with what
    that area writes), audited as ``command_batch.create`` unless the use case audits
    itself afterwards; returns the batch's id. Call it before the use case's first
    statement: the targets are read through sessions of their own."""
    return (await _create_batch(uc, body)).id


async def _create_batch(uc: UseCase, body: BatchCreate, retry_of: str | None = None) -> BatchOut:
    """Write the batch and its children in the use case's transaction, audited as
    ``command_batch.create``; returns the batch as created: every child in its first state
    (not read back, which would count 34,000 rows just written)."""
    ctx = uc.ctx
    ctx.principal.require(Permission.COMMAND_SEND)
    CATALOGUE.require(body.type)
    # Read through sessions of their own: the use case's takes the write lock at its
    # first statement, and a target may be the whole city.
    refs, described = await targets.resolve(ctx, body)
    checked = policy.check(
        ctx.principal,
        ctx.settings,
        body.type,
        body.name,
        body.params,
        body.reason,
        policy.Timing(body.timeout_s, body.expires_in_s),
        critical_because=_critical_because(ctx, body, len(refs)),
    )
    now = utcnow()
    batch_id = creation.new_id()
    new = creation.new_commands(ctx, checked, refs, now, body.reason, batch_id)
    communes = sorted({r.commune for r in refs})
    batch = CommandBatch(
        id=batch_id,
        name=body.name,
        asset_type=body.type,
        params=checked.params,
        target=described,
        communes=communes,
        total=len(new.ids),
        critical=checked.critical,
        reason=body.reason,
        state=(
            BatchState.AWAITING_APPROVAL if checked.needs_approval else BatchState.RUNNING
        ).value,
        created_at=now,
        created_by=ctx.principal.name,
        created_by_user_id=ctx.principal.user_id,
        approval_expires_at=new.shared["approval_expires_at"],
        retry_of=retry_of,
    )
    uc.session.add(batch)
    await uc.session.flush()
    await creation.insert(uc.session, new)
    await wakeup.notify(uc.session)
    uc.audit(
        action="command_batch.create",
        target_id=batch_id,
        commune=communes[0] if len(communes) == 1 else None,
        reason=body.reason,
        details={
            "name": body.name,
            "type": body.type,
            "params": checked.params,
            "target": described,
            "total": len(new.ids),
            "communes": communes,
            "critical": checked.critical,
            "state": batch.state,
            "retry_of": retry_of,
        },
    )
    uc.publish(BatchChanged(batch_id, batch.state, now), *new.events())
    return batch_shape(batch, {new.state: len(new.ids)}, dict(Counter(new.verifications)))


def _critical_because(ctx: Context, body: BatchCreate, count: int) -> str | None:
    """Why a batch is critical whatever its command, if it is."""
    if count > ctx.settings.batch_critical_size:
        return f"a batch of {count} commands (critical above {ctx.settings.batch_critical_size})"
    type_spec = CATALOGUE[body.type]
    spec = type_spec.command(body.name)
    if spec and spec.switches_off(body.params) and isinstance(body.target, CommuneTarget):
        return f"switching off the {type_spec.domain.value} of a whole commune"
    return None


async def _decide_batch(
    ctx: Context,
    batch_id: str,
    action: str,
    reason: str | None,
    from_states: frozenset[CommandState],
    to_state: CommandState,
    batch_state: BatchState,
    *,
    approval: bool,
    reason_required: bool = False,
) -> BatchOut:
    """Move a batch and its children in ``from_states`` by a person's decision: an approval
    or a refusal (``approval``, under the four-eyes rule and in time) or a cancellation."""
    async with change(ctx, action, target_type="command_batch", target_id=batch_id) as uc:
        if reason_required and not reason:
            raise InvalidInput(FieldError("reason", "required to refuse a batch"))
        ctx.principal.require(Permission.COMMAND_READ)
        now = utcnow()
        batch = await load_batch(uc.session, ctx, batch_id, lock=True)
        if approval:
            policy.may_approve(ctx.principal, batch.created_by_user_id, batch.created_by)
            if batch.state != BatchState.AWAITING_APPROVAL:
                raise Conflict(
                    f"batch {batch_id!r} is {batch.state}, not awaiting approval",
                    current_state=batch.state,
                )
            policy.require_in_time(batch.approval_expires_at, f"batch {batch_id!r}")
        else:
            policy.may_cancel(ctx.principal, batch.asset_type, batch.name)
        # Lock the children in id order first (as the tracker and the clock do), then
        # move them all with one statement: a batch may hold the whole city.
        chosen = and_(Command.batch_id == batch_id, Command.state.in_(list(from_states)))
        # Counted rather than fetched: the locks are what matters, not 34,000 ids.
        locking = select(Command.id).where(chosen).order_by(Command.id).with_for_update()
        await uc.session.execute(select(func.count()).select_from(locking.subquery()))
        values: dict[str, Any] = {"state": to_state.value, "updated_at": now}
        if to_state is CommandState.QUEUED:
            values |= {"approved_by": ctx.principal.name, "next_attempt_at": now}
        else:
            values |= {
                "finished_at": now,
                "result": {"reason": action.split(".")[-1], "by": ctx.principal.name},
                "verification": case(
                    (
                        Command.verification == Verification.PENDING.value,
                        Verification.NOT_APPLICABLE.value,
                    ),
                    else_=Command.verification,
                ),
            }
        # Core, not ORM: the rows come back as plain values, 34,000 of them.
        table = Base.metadata.tables[Command.__tablename__]
        moved = (
            await uc.session.execute(
                update(table)
                .where(chosen)
                .values(values)
                .returning(table.c.id, table.c.asset_id, table.c.verification)
            )
        ).all()
        same = history.Same(
            batch_id,
            batch.name,
            to_state.value,
            now,
            ctx.principal.name,
            ctx.principal.kind.value,
            {"reason": reason} if reason else None,
        )
        if to_state is CommandState.QUEUED:
            await wakeup.notify(uc.session)
        batch.state = batch_state.value
        batch.decided_by = ctx.principal.name
        batch.decided_at = now
        events = await history.record_same(uc.session, moved, same)
        uc.audit(
            commune=batch.communes[0] if len(batch.communes) == 1 else None,
            reason=reason,
            details={"commands": len(moved), "state": batch_state.value},
        )
        uc.publish(BatchChanged(batch_id, batch_state.value, now), *events)
        out = await batch_out(uc.session, batch)
    return out


async def approve_batch(ctx: Context, batch_id: str, reason: str | None = None) -> BatchOut:
    """A supervisor other than the requester lets a critical batch go."""
    return await _decide_batch(
        ctx,
        batch_id,
        "command_batch.approve",
        reason,
        frozenset({CommandState.AWAITING_APPROVAL}),
        CommandState.QUEUED,
        BatchState.RUNNING,
        approval=True,
    )


async def deny_batch(ctx: Context, batch_id: str, reason: str | None) -> BatchOut:
    """A supervisor refuses a critical batch: every child ends ``rejected``."""
    return await _decide_batch(
        ctx,
        batch_id,
        "command_batch.deny",
        reason,
        frozenset({CommandState.AWAITING_APPROVAL}),
        CommandState.REJECTED,
        BatchState.REJECTED,
        approval=True,
        reason_required=True,
    )


async def cancel_batch(ctx: Context, batch_id: str, reason: str | None) -> BatchOut:
    """Cancel every child that has not finished."""
    return await _decide_batch(
        ctx,
        batch_id,
        "command_batch.cancel",
        reason,
        OPEN - {CommandState.CREATED},
        CommandState.CANCELLED,
        BatchState.CANCELLED,
        approval=False,
    )


async def retry_batch(ctx: Context, batch_id: str, reason: str | None = None) -> BatchOut:
    """A new batch of the same command to the children that failed, expired or were
    rejected by their device (not those a person refused or cancelled)."""
    # The retry's refusals are its own; what it makes is audited as a batch's creation.
    async with change(
        ctx, "command_batch.retry", target_type="command_batch", target_id=batch_id
    ) as uc:
        ctx.principal.require(Permission.COMMAND_READ)
        async with ctx.db.read() as session:
            batch = await load_batch(session, ctx, batch_id, lock=False)
            if batch.state in (BatchState.REJECTED, BatchState.CANCELLED, BatchState.EXPIRED):
                raise Conflict(f"batch {batch_id!r} is {batch.state}", current_state=batch.state)
            ids = list(
                (
                    await session.execute(
                        select(Command.asset_id).where(
                            Command.batch_id == batch_id,
                            Command.state.in_([s.value for s in RETRYABLE]),
                        )
                    )
                ).scalars()
            )
        if ids:
            # Assets decommissioned since are left out of the retry.
            ids = [r.id for r in await asset_refs(ctx, AssetFilter(ids=ids))]
        if not ids:
            raise Conflict(f"batch {batch_id!r} has no failed command to retry")
        body = BatchCreate(
            type=batch.asset_type,
            name=batch.name,
            params=batch.params,
            target=IdsTarget(kind="ids", asset_ids=ids),
            reason=reason or batch.reason,
        )
        return await _create_batch(uc, body, retry_of=batch_id)
