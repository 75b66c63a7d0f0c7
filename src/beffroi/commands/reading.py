"""Reading commands and group commands, within the caller's scope: one command with its
transitions, lists of commands (all, an asset's, a batch's children), a batch's progress.

A command out of scope is not found; a batch is shown whole or not at all, to whoever
sees every commune it touches.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets.service import get_asset
from beffroi.catalogue.visibility import in_view, shows, type_clause
from beffroi.commands.lifecycle import OPEN, BatchState, CommandState
from beffroi.commands.models import Command, CommandBatch, CommandTransition
from beffroi.commands.schemas import BatchOut, CommandDetail, CommandOut, CommandPage, TransitionOut
from beffroi.communes.lookup import filter_codes
from beffroi.core.context import Context
from beffroi.core.errors import NotFound
from beffroi.core.keyset import Keyset
from beffroi.core.principal import Permission


def to_out(row: Command) -> CommandOut:
    """The API shape of a command row."""
    return CommandOut.model_validate(row)


async def load(session: AsyncSession, ctx: Context, command_id: str, *, lock: bool) -> Command:
    """One command in the caller's scope (locked for a change when ``lock``)."""
    stmt = select(Command).where(Command.id == command_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None or not in_view(ctx.principal, row.commune_code, row.asset_type):
        raise NotFound(f"command {command_id!r} not found")
    return row


def _creation(row: Command) -> list[TransitionOut]:
    """The ``created`` step and the state the command was created in (``queued``, or
    ``awaiting_approval`` when it was held for approval, the only case with an approval
    deadline), both read from the command row: creating 34,000 commands writes no
    transition row."""
    actor_kind = "user" if row.created_by_user_id is not None else "system"
    first = (
        CommandState.AWAITING_APPROVAL
        if row.approval_expires_at is not None
        else CommandState.QUEUED
    )
    return [
        TransitionOut(
            state=state.value,
            at=row.created_at,
            actor=row.created_by,
            actor_kind=actor_kind,
            detail=None,
        )
        for state in (CommandState.CREATED, first)
    ]


def _stored_first(row: Command, moves: Sequence[CommandTransition]) -> bool:
    """Whether the first state was written as a transition row (commands created before
    it was read from the command row)."""
    first = moves[0] if moves else None
    return (
        first is not None
        and first.at == row.created_at
        and first.state in (CommandState.AWAITING_APPROVAL, CommandState.QUEUED)
    )


async def get_command(ctx: Context, command_id: str) -> CommandDetail:
    """One command in scope, with its transitions."""
    ctx.principal.require(Permission.COMMAND_READ)
    async with ctx.db.read() as session:
        row = await load(session, ctx, command_id, lock=False)
        moves = list(
            (
                await session.execute(
                    select(CommandTransition)
                    .where(CommandTransition.command_id == command_id)
                    .order_by(CommandTransition.id)
                )
            ).scalars()
        )
        created = _creation(row)
        transitions = created[:1] if _stored_first(row, moves) else created
        transitions += [
            TransitionOut(
                state=m.state, at=m.at, actor=m.actor, actor_kind=m.actor_kind, detail=m.detail
            )
            for m in moves
        ]
    return CommandDetail(**to_out(row).model_dump(), transitions=transitions)


# Newest first; a batch's children share their creation time, so the id breaks the tie.
NEWEST = Keyset((Command.created_at, Command.id), descending=True)


async def list_commands(
    ctx: Context,
    *,
    asset_id: str | None = None,
    batch_id: str | None = None,
    states: Sequence[CommandState] = (),
    name: str | None = None,
    commune: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> CommandPage:
    """Commands in scope, newest first, filtered; cursor-paginated."""
    ctx.principal.require(Permission.COMMAND_READ)
    stmt = select(Command).where(
        ctx.principal.scope_clause(Command.commune_code),
        type_clause(ctx.principal, Command.asset_type),
    )
    if asset_id:
        stmt = stmt.where(Command.asset_id == asset_id)
    if batch_id:
        stmt = stmt.where(Command.batch_id == batch_id)
    if states:
        stmt = stmt.where(Command.state.in_([s.value for s in states]))
    if name:
        stmt = stmt.where(Command.name == name)
    async with ctx.db.read() as session:
        if commune:
            codes = await filter_codes(session, ctx.principal, [commune])
            stmt = stmt.where(Command.commune_code.in_(codes))
        rows, next_cursor = await NEWEST.page(session, stmt, cursor=cursor, limit=limit)
    return CommandPage(items=[to_out(r) for r in rows], next_cursor=next_cursor)


async def asset_history(
    ctx: Context, asset_id: str, *, cursor: str | None = None, limit: int = 100
) -> CommandPage:
    """The commands of one asset, newest first; an asset out of scope is not found, even
    when it has no command."""
    await get_asset(ctx, asset_id)
    return await list_commands(ctx, asset_id=asset_id, cursor=cursor, limit=limit)


async def batch_children(
    ctx: Context,
    batch_id: str,
    *,
    states: Sequence[CommandState] = (),
    cursor: str | None = None,
    limit: int = 100,
) -> CommandPage:
    """The children of a group command the caller may see whole, filtered by state."""
    ctx.principal.require(Permission.COMMAND_READ)
    async with ctx.db.read() as session:
        await load_batch(session, ctx, batch_id, lock=False)
    return await list_commands(ctx, batch_id=batch_id, states=states, cursor=cursor, limit=limit)


# --- group commands ------------------------------------------------------------------------


async def load_batch(
    session: AsyncSession, ctx: Context, batch_id: str, *, lock: bool
) -> CommandBatch:
    """One group command the caller sees whole (locked for a change when ``lock``)."""
    stmt = select(CommandBatch).where(CommandBatch.id == batch_id)
    if lock:
        stmt = stmt.with_for_update()
    batch = (await session.execute(stmt)).scalar_one_or_none()
    # A batch is shown whole or not at all: to whoever sees every commune it touches.
    # A batch over hidden equipment (cameras) does not exist for the caller.
    if (
        batch is None
        or not ctx.principal.covers(batch.communes)
        or not shows(ctx.principal, batch.asset_type)
    ):
        raise NotFound(f"command batch {batch_id!r} not found")
    return batch


async def batch_out(session: AsyncSession, batch: CommandBatch) -> BatchOut:
    """The API shape of a batch, with its progress: its children per state and per
    verification outcome (``done`` once a running batch has no open child)."""
    counts: dict[str, int] = {}
    checks: dict[str, int] = {}
    rows = await session.execute(
        select(Command.state, Command.verification, func.count())
        .where(Command.batch_id == batch.id)
        .group_by(Command.state, Command.verification)
    )
    for state, verification, n in rows:
        counts[state] = counts.get(state, 0) + n
        checks[verification] = checks.get(verification, 0) + n
    return batch_shape(batch, counts, checks)


def batch_shape(batch: CommandBatch, counts: dict[str, int], checks: dict[str, int]) -> BatchOut:
    """The API shape of ``batch`` whose children are ``counts`` per state and ``checks``
    per verification outcome."""
    state = BatchState(batch.state)
    if state is BatchState.RUNNING and not any(counts.get(s.value) for s in OPEN):
        state = BatchState.DONE
    return BatchOut(
        id=batch.id,
        name=batch.name,
        type=batch.asset_type,
        params=batch.params,
        target=batch.target,
        communes=batch.communes,
        total=batch.total,
        critical=batch.critical,
        reason=batch.reason,
        state=state,
        created_at=batch.created_at,
        created_by=batch.created_by,
        approval_expires_at=batch.approval_expires_at,
        decided_by=batch.decided_by,
        decided_at=batch.decided_at,
        retry_of=batch.retry_of,
        counts=counts,
        verification=checks,
    )


async def get_batch(ctx: Context, batch_id: str) -> BatchOut:
    """A group command and its progress (children per state)."""
    ctx.principal.require(Permission.COMMAND_READ)
    async with ctx.db.read() as session:
        return await batch_out(session, await load_batch(session, ctx, batch_id, lock=False))


async def list_batches(ctx: Context, limit: int = 50) -> list[BatchOut]:
    """The newest group commands the caller may see whole."""
    ctx.principal.require(Permission.COMMAND_READ)
    async with ctx.db.read() as session:
        stmt = (
            select(CommandBatch)
            .where(type_clause(ctx.principal, CommandBatch.asset_type))
            .order_by(CommandBatch.created_at.desc())
        )
        out: list[BatchOut] = []
        result = await session.stream_scalars(stmt.execution_options(yield_per=200))
        async for batch in result:
            if ctx.principal.covers(batch.communes):
                out.append(await batch_out(session, batch))
                if len(out) >= limit:
                    break
        await result.close()
    return out
