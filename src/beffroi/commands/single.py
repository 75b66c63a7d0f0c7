"""One command to one asset: send it, and the decisions on it (approve, refuse, cancel).

A command is written ``queued`` (or ``awaiting_approval``) and the gateway's dispatcher
sends it; nothing here talks to the broker. Every decision is audited in the transaction
that makes it, and every refusal on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from beffroi.assets.lifecycle import AssetStatus
from beffroi.assets.service import ref_in
from beffroi.commands import creation, history, policy, wakeup
from beffroi.commands.history import Move
from beffroi.commands.lifecycle import FINAL, OPEN, CommandState, Verification
from beffroi.commands.models import Command
from beffroi.commands.reading import load, to_out
from beffroi.commands.schemas import CommandCreate, CommandOut
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import UseCase, change

CANCELLABLE = OPEN - {CommandState.CREATED}


async def send_command(ctx: Context, body: CommandCreate) -> CommandOut:
    """Check a command against the catalogue and the caller, and queue it (or hold it for
    approval). Nothing is written when a check fails."""
    async with change(
        ctx,
        "command.create",
        target_type="asset",
        target_id=body.asset_id,
        refused_details={"name": body.name},
    ) as uc:
        created = await create_in(uc, body)
    return to_out(created)


async def create_in(uc: UseCase, body: CommandCreate, *, within_session: bool = False) -> Command:
    """Check and queue one command inside a use case under way, audited as its creation.

    ``within_session``: the caller (the video area) checked a view session and the
    habilitation; the commands the catalogue keeps to sessions are accepted only so.
    """
    ctx = uc.ctx
    ctx.principal.require(Permission.COMMAND_SEND)
    asset = await ref_in(uc.session, ctx, body.asset_id)
    if asset.status == AssetStatus.DECOMMISSIONED:
        raise Conflict(f"asset {asset.id!r} is decommissioned")
    checked = policy.check(
        ctx.principal,
        ctx.settings,
        asset.type,
        body.name,
        body.params,
        body.reason,
        policy.Timing(body.timeout_s, body.expires_in_s),
        within_session=within_session,
    )
    now = utcnow()
    new = creation.new_commands(ctx, checked, [asset], now, body.reason, None)
    await creation.insert(uc.session, new)
    uc.publish(*new.events())
    await wakeup.notify(uc.session)
    uc.audit(
        target_id=asset.id,
        commune=asset.commune,
        reason=body.reason,
        details={
            "command_id": new.ids[0],
            "name": body.name,
            "params": checked.params,
            "critical": checked.critical,
            "state": new.state,
        },
    )
    created = await uc.session.get(Command, new.ids[0])
    assert created is not None
    return created


def _require_state(row: Command, allowed: frozenset[CommandState], action: str) -> None:
    if CommandState(row.state) not in allowed:
        raise Conflict(
            f"cannot {action} command {row.id!r}: it is {row.state}",
            current_state=row.state,
        )


async def _decide(
    ctx: Context,
    command_id: str,
    action: str,
    reason: str | None,
    apply: Callable[[Command, datetime], CommandState],
    allowed: frozenset[CommandState],
    check: Callable[[Command], None],
    *,
    reason_required: bool = False,
) -> CommandOut:
    """Move one command by a person's decision: ``check`` may refuse it, ``apply`` sets
    what the decision changes and returns the new state."""
    async with change(ctx, action, target_type="command", target_id=command_id) as uc:
        if reason_required and not reason:
            raise InvalidInput(FieldError("reason", "required to refuse a command"))
        ctx.principal.require(Permission.COMMAND_READ)
        now = utcnow()
        row = await load(uc.session, ctx, command_id, lock=True)
        check(row)
        _require_state(row, allowed, action.split(".")[-1])
        state = apply(row, now)
        row.state = state.value
        row.updated_at = now
        if state in FINAL:
            row.finished_at = now
            if row.verification == Verification.PENDING:
                row.verification = Verification.NOT_APPLICABLE.value
        move = Move(
            row.id,
            row.asset_id,
            row.batch_id,
            row.name,
            state.value,
            row.verification,
            now,
            ctx.principal.name,
            ctx.principal.kind.value,
            {"reason": reason} if reason else None,
        )
        uc.publish(*await history.record(uc.session, [move]))
        if state is CommandState.QUEUED:
            await wakeup.notify(uc.session)
        uc.audit(
            target_id=row.id,
            commune=row.commune_code,
            reason=reason,
            details={"asset_id": row.asset_id, "name": row.name, "state": state.value},
        )
    return to_out(row)


def _approvable(ctx: Context) -> Callable[[Command], None]:
    def check(row: Command) -> None:
        if row.batch_id is not None:
            raise Conflict(
                f"command {row.id!r} belongs to batch {row.batch_id!r}: decide on the batch",
                current_state=row.state,
            )
        policy.may_approve(ctx.principal, row.created_by_user_id, row.created_by)
        policy.require_in_time(row.approval_expires_at, f"command {row.id!r}")

    return check


async def approve_command(ctx: Context, command_id: str, reason: str | None = None) -> CommandOut:
    """A supervisor other than the requester lets a critical command go."""

    def apply(row: Command, now: datetime) -> CommandState:
        row.approved_by = ctx.principal.name
        row.next_attempt_at = now
        return CommandState.QUEUED

    return await _decide(
        ctx,
        command_id,
        "command.approve",
        reason,
        apply,
        frozenset({CommandState.AWAITING_APPROVAL}),
        _approvable(ctx),
    )


async def deny_command(ctx: Context, command_id: str, reason: str | None) -> CommandOut:
    """A supervisor refuses a critical command: it ends ``rejected``."""

    def apply(row: Command, now: datetime) -> CommandState:
        row.approved_by = ctx.principal.name
        row.result = {"reason": "approval refused", "by": ctx.principal.name}
        return CommandState.REJECTED

    return await _decide(
        ctx,
        command_id,
        "command.deny",
        reason,
        apply,
        frozenset({CommandState.AWAITING_APPROVAL}),
        _approvable(ctx),
        reason_required=True,
    )


async def cancel_command(ctx: Context, command_id: str, reason: str | None) -> CommandOut:
    """Cancel a command that has not finished. One already sent may still be carried out
    by the device; its late reply is then recorded nowhere but the metrics."""

    def check(row: Command) -> None:
        policy.may_cancel(ctx.principal, row.asset_type, row.name)

    def apply(row: Command, now: datetime) -> CommandState:
        row.result = {"reason": "cancelled", "by": ctx.principal.name}
        return CommandState.CANCELLED

    return await _decide(ctx, command_id, "command.cancel", reason, apply, CANCELLABLE, check)
