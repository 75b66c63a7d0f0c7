"""Use cases of remote commands: send, send to many, approve, refuse, cancel, read.

A command is written ``queued`` (or ``awaiting_approval``) and the gateway's dispatcher
sends it; nothing here talks to the broker. Every decision of a person is audited in the
transaction that makes it, and every refusal is audited on its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import groups
from beffroi.assets.lifecycle import AssetStatus
from beffroi.assets.service import AssetFilter, AssetRef, BBox, asset_refs, get_asset
from beffroi.catalogue import CATALOGUE, rights
from beffroi.commands import history, policy, wakeup
from beffroi.commands.events import BatchChanged
from beffroi.commands.history import Move
from beffroi.commands.lifecycle import (
    FINAL,
    OPEN,
    BatchState,
    CommandState,
    Verification,
)
from beffroi.commands.models import Command, CommandBatch, CommandTransition
from beffroi.commands.schemas import (
    BatchCreate,
    BatchOut,
    CommandCreate,
    CommandDetail,
    CommandOut,
    CommandPage,
    Target,
    TargetKind,
    TransitionOut,
)
from beffroi.commands.verification import expected_state
from beffroi.communes.lookup import filter_codes
from beffroi.core import audit
from beffroi.core.context import Context
from beffroi.core.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.db import Base
from beffroi.db.copy import insert_rows

T = TypeVar("T")
MAX_BATCH = 200_000
# Targets named one by one in an error: enough to act on, not a wall of text.
NAMED_AT_MOST = 10


def new_id() -> str:
    """A command or batch id: unique, and topic-safe for the device API."""
    return uuid.uuid4().hex


def to_out(row: Command) -> CommandOut:
    """The API shape of a command row."""
    return CommandOut(
        id=row.id,
        batch_id=row.batch_id,
        asset_id=row.asset_id,
        asset_type=row.asset_type,
        commune=row.commune_code,
        name=row.name,
        params=row.params,
        critical=row.critical,
        reason=row.reason,
        state=CommandState(row.state),
        verification=Verification(row.verification),
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        timeout_s=row.timeout_s,
        created_at=row.created_at,
        created_by=row.created_by,
        approval_expires_at=row.approval_expires_at,
        approved_by=row.approved_by,
        expires_at=row.expires_at,
        sent_at=row.sent_at,
        replied_at=row.replied_at,
        finished_at=row.finished_at,
        verified_at=row.verified_at,
        result=row.result,
    )


def _row(
    ctx: Context,
    checked: policy.Checked,
    asset: AssetRef,
    now: datetime,
    reason: str | None,
    batch_id: str | None,
) -> dict[str, Any]:
    """A new command row for one target."""
    waiting = checked.needs_approval
    verifiable = bool(expected_state(asset.type, checked.spec.name, checked.params))
    return {
        "id": new_id(),
        "batch_id": batch_id,
        "asset_id": asset.id,
        "asset_type": asset.type,
        "commune_code": asset.commune,
        "name": checked.spec.name,
        "params": checked.params,
        "critical": checked.critical,
        "reason": reason,
        "state": (CommandState.AWAITING_APPROVAL if waiting else CommandState.QUEUED).value,
        "verification": (Verification.PENDING if verifiable else Verification.NOT_APPLICABLE).value,
        "attempts": 0,
        "max_attempts": checked.max_attempts,
        "timeout_s": checked.timeout_s,
        "created_at": now,
        "created_by": ctx.principal.name,
        "created_by_user_id": ctx.principal.user_id,
        "approval_expires_at": now + timedelta(seconds=ctx.settings.approval_ttl_s)
        if waiting
        else None,
        # The lifetime runs from creation: an approval that comes late leaves less of it.
        "expires_at": now + timedelta(seconds=checked.expires_in_s),
        "next_attempt_at": None if waiting else now,
        "updated_at": now,
    }


def _moves(ctx: Context, rows: Sequence[dict[str, Any]], now: datetime) -> list[Move]:
    """The first move of new commands. Their creation is the row itself (``created_at``,
    ``created_by``): one transition row per command rather than two, for 34,000 at once."""
    actor, kind = ctx.principal.name, ctx.principal.kind.value
    return [
        Move(
            r["id"],
            r["asset_id"],
            r["batch_id"],
            r["name"],
            r["state"],
            r["verification"],
            now,
            actor,
            kind,
        )
        for r in rows
    ]


def _creation(row: Command) -> TransitionOut:
    """The ``created`` step, read from the command row."""
    return TransitionOut(
        state=CommandState.CREATED.value,
        at=row.created_at,
        actor=row.created_by,
        actor_kind="user" if row.created_by_user_id is not None else "system",
        detail=None,
    )


async def _insert_commands(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await insert_rows(session, Base.metadata.tables["commands"], rows)


# --- one command ---------------------------------------------------------------------------


async def send_command(ctx: Context, body: CommandCreate) -> CommandOut:
    """Check a command against the catalogue and the caller, and queue it (or hold it for
    approval). Nothing is written when a check fails."""
    return await audit.refused(
        ctx,
        "command.create",
        lambda: _send_command(ctx, body),
        target_type="asset",
        target_id=body.asset_id,
        name=body.name,
    )


async def _send_command(ctx: Context, body: CommandCreate) -> CommandOut:
    ctx.principal.require(Permission.COMMAND_SEND)
    asset = await get_asset(ctx, body.asset_id)
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
    )
    ref = AssetRef(asset.id, asset.type, asset.commune, asset.status, asset.parent_id)
    now = utcnow()
    row = _row(ctx, checked, ref, now, body.reason, None)
    async with ctx.db.write() as session:
        await _insert_commands(session, [row])
        events = await history.record(session, _moves(ctx, [row], now))
        await wakeup.notify(session)
        await audit.record(
            session,
            ctx.principal,
            "command.create",
            target_type="asset",
            target_id=asset.id,
            commune=asset.commune,
            reason=body.reason,
            details={
                "command_id": row["id"],
                "name": body.name,
                "params": checked.params,
                "critical": checked.critical,
                "state": row["state"],
            },
        )
        created = await session.get(Command, row["id"])
        assert created is not None
    ctx.runtime.events.publish_many(events)
    return to_out(created)


async def _load(session: AsyncSession, ctx: Context, command_id: str, *, lock: bool) -> Command:
    stmt = select(Command).where(Command.id == command_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None or not ctx.principal.sees(row.commune_code):
        raise NotFound(f"command {command_id!r} not found")
    return row


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
    *,
    check: Callable[[Command], None] | None = None,
) -> CommandOut:
    async def run() -> CommandOut:
        ctx.principal.require(Permission.COMMAND_READ)
        now = utcnow()
        async with ctx.db.write() as session:
            row = await _load(session, ctx, command_id, lock=True)
            if check is not None:
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
            events = await history.record(session, [move])
            if state is CommandState.QUEUED:
                await wakeup.notify(session)
            await audit.record(
                session,
                ctx.principal,
                action,
                target_type="command",
                target_id=row.id,
                commune=row.commune_code,
                reason=reason,
                details={"asset_id": row.asset_id, "name": row.name, "state": state.value},
            )
        ctx.runtime.events.publish_many(events)
        return to_out(row)

    return await audit.refused(ctx, action, run, target_type="command", target_id=command_id)


def _approvable(ctx: Context) -> Callable[[Command], None]:
    def check(row: Command) -> None:
        if row.batch_id is not None:
            raise Conflict(
                f"command {row.id!r} belongs to batch {row.batch_id!r}: decide on the batch",
                current_state=row.state,
            )
        policy.may_approve(ctx.principal, row.created_by_user_id, row.created_by)
        _require_in_time(row.approval_expires_at, f"command {row.id!r}")

    return check


def _require_in_time(deadline: datetime | None, what: str) -> None:
    # The expiry job closes it soon; until then the request must not be approvable either.
    if deadline is not None and deadline <= utcnow():
        raise Conflict(f"the approval request of {what} expired", current_state="expired")


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
        check=_approvable(ctx),
    )


async def deny_command(ctx: Context, command_id: str, reason: str | None) -> CommandOut:
    """A supervisor refuses a critical command: it ends ``rejected``."""
    if not reason:
        raise InvalidInput(FieldError("reason", "required to refuse a command"))

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
        check=_approvable(ctx),
    )


async def cancel_command(ctx: Context, command_id: str, reason: str | None) -> CommandOut:
    """Cancel a command that has not finished. One already sent may still be carried out
    by the device; its late reply is then recorded nowhere but the metrics."""

    def check(row: Command) -> None:
        _require_cancel(ctx, row.asset_type, row.name)

    def apply(row: Command, now: datetime) -> CommandState:
        row.result = {"reason": "cancelled", "by": ctx.principal.name}
        return CommandState.CANCELLED

    cancellable = OPEN - {CommandState.CREATED}
    return await _decide(ctx, command_id, "command.cancel", reason, apply, cancellable, check=check)


def _require_cancel(ctx: Context, asset_type: str, name: str) -> None:
    """Whoever may send a command may cancel it; a supervisor may cancel any."""
    spec = CATALOGUE.get(asset_type)
    command = spec.command(name) if spec else None
    if ctx.principal.can(Permission.COMMAND_APPROVE):
        return
    if spec is None or command is None or not rights.may_send(ctx.principal, spec, command):
        raise PermissionDenied(f"{ctx.principal.name} may not cancel {name} commands")


async def get_command(ctx: Context, command_id: str) -> CommandDetail:
    """One command in scope, with its transitions."""
    ctx.principal.require(Permission.COMMAND_READ)
    async with ctx.db.read() as session:
        row = await _load(session, ctx, command_id, lock=False)
        moves = (
            await session.execute(
                select(CommandTransition)
                .where(CommandTransition.command_id == command_id)
                .order_by(CommandTransition.id)
            )
        ).scalars()
        transitions = [_creation(row)] + [
            TransitionOut(
                state=m.state, at=m.at, actor=m.actor, actor_kind=m.actor_kind, detail=m.detail
            )
            for m in moves
        ]
    return CommandDetail(**to_out(row).model_dump(), transitions=transitions)


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
    stmt = select(Command).where(ctx.principal.scope_clause(Command.commune_code))
    if asset_id:
        stmt = stmt.where(Command.asset_id == asset_id)
    if batch_id:
        stmt = stmt.where(Command.batch_id == batch_id)
    if states:
        stmt = stmt.where(Command.state.in_([s.value for s in states]))
    if name:
        stmt = stmt.where(Command.name == name)
    if cursor:
        at, last_id = _decode_cursor(cursor)
        stmt = stmt.where(
            or_(Command.created_at < at, and_(Command.created_at == at, Command.id < last_id))
        )
    stmt = stmt.order_by(Command.created_at.desc(), Command.id.desc()).limit(limit + 1)
    async with ctx.db.read() as session:
        if commune:
            codes = await filter_codes(session, ctx.principal, [commune])
            stmt = stmt.where(Command.commune_code.in_(codes))
        rows = list((await session.execute(stmt)).scalars())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = f"{rows[-1].created_at.timestamp():.6f}~{rows[-1].id}"
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
        await _load_batch(session, ctx, batch_id, lock=False)
    return await list_commands(ctx, batch_id=batch_id, states=states, cursor=cursor, limit=limit)


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    stamp, _, last_id = cursor.partition("~")
    try:
        at = datetime.fromtimestamp(float(stamp), tz=utcnow().tzinfo)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(FieldError("cursor", "not a cursor returned by this API")) from None
    if not last_id.isalnum() or len(last_id) > 32:
        raise InvalidInput(FieldError("cursor", "not a cursor returned by this API"))
    return at, last_id


# --- group commands ------------------------------------------------------------------------


async def _targets(ctx: Context, body: BatchCreate) -> tuple[list[AssetRef], dict[str, Any]]:
    """The assets a batch addresses, in the caller's scope, and how they were chosen."""
    t: Target = body.target
    types = [body.type]
    live = [AssetStatus.IN_SERVICE, AssetStatus.MAINTENANCE]
    described: dict[str, Any] = {"kind": t.kind.value}
    if t.kind is TargetKind.IDS:
        if not t.asset_ids:
            raise InvalidInput(FieldError("target.asset_ids", "at least one asset id"))
        # Every status, so a decommissioned target is named as such rather than as missing.
        refs = await asset_refs(ctx, AssetFilter(ids=t.asset_ids, statuses=list(AssetStatus)))
        _require_all(t.asset_ids, refs, "target.asset_ids")
        described["asset_ids"] = len(set(t.asset_ids))
    elif t.kind is TargetKind.GROUP:
        if t.group_id is None:
            raise InvalidInput(FieldError("target.group_id", "required for kind group"))
        ids = await groups.group_member_ids(ctx, t.group_id)
        refs = (
            await asset_refs(ctx, AssetFilter(ids=ids, types=types, statuses=live)) if ids else []
        )
        described["group_id"] = t.group_id
    elif t.kind is TargetKind.CABINET:
        if t.cabinet_id is None:
            raise InvalidInput(FieldError("target.cabinet_id", "required for kind cabinet"))
        cabinet = await get_asset(ctx, t.cabinet_id)
        if cabinet.type != "lighting_cabinet":
            raise InvalidInput(
                FieldError("target.cabinet_id", f"{cabinet.id!r} is a {cabinet.type}")
            )
        refs = await asset_refs(ctx, AssetFilter(parent_id=cabinet.id, types=types, statuses=live))
        described["cabinet_id"] = cabinet.id
    elif t.kind is TargetKind.COMMUNE:
        if t.commune is None:
            raise InvalidInput(FieldError("target.commune", "required for kind commune"))
        refs = await asset_refs(ctx, AssetFilter(communes=[t.commune], types=types, statuses=live))
        described["commune"] = t.commune
    elif t.kind is TargetKind.POLYGON:
        if t.polygon is None:
            raise InvalidInput(FieldError("target.polygon", "required for kind polygon"))
        shape = groups.polygon_shape(t.polygon, "target.polygon")
        async with ctx.db.read() as session:
            ids = await groups.ids_in_polygon(session, ctx, shape, types=types)
        refs = await asset_refs(ctx, AssetFilter(ids=ids, statuses=live)) if ids else []
        described["polygon"] = t.polygon.model_dump()
    else:
        refs = await asset_refs(
            ctx,
            AssetFilter(
                types=types,
                communes=t.communes,
                statuses=t.statuses or live,
                parent_id=t.parent_id,
                bbox=BBox.parse(t.bbox) if t.bbox else None,
                q=t.q,
            ),
        )
        described.update(t.model_dump(exclude={"kind", "asset_ids", "polygon"}, exclude_none=True))
    wrong = [r.id for r in refs if r.type != body.type]
    if wrong:
        raise InvalidInput(
            FieldError("target", f"not a {body.type}: {wrong[:NAMED_AT_MOST]}"),
        )
    dead = [r.id for r in refs if r.status == AssetStatus.DECOMMISSIONED]
    if dead:
        raise InvalidInput(FieldError("target", f"decommissioned: {dead[:NAMED_AT_MOST]}"))
    if not refs:
        raise InvalidInput(FieldError("target", f"no {body.type} in your scope matches"))
    if len(refs) > MAX_BATCH:
        raise InvalidInput(FieldError("target", f"{len(refs)} targets; at most {MAX_BATCH}"))
    return refs, described


def _require_all(asked: Sequence[str], refs: Sequence[AssetRef], field: str) -> None:
    found = {r.id for r in refs}
    missing = sorted(set(asked) - found)
    if missing:
        raise InvalidInput(FieldError(field, f"not found: {missing[:NAMED_AT_MOST]}"))


def _batch_critical(ctx: Context, body: BatchCreate, count: int) -> str | None:
    """Why a batch is critical whatever its command, if it is."""
    if count > ctx.settings.batch_critical_size:
        return f"a batch of {count} commands (critical above {ctx.settings.batch_critical_size})"
    lights_out = (body.name == "switch" and body.params.get("on") is False) or (
        body.name == "dim" and body.params.get("level_pct") == 0
    )
    if lights_out and body.target.kind is TargetKind.COMMUNE:
        return "switching off the lighting of a whole commune"
    return None


async def create_batch(ctx: Context, body: BatchCreate) -> BatchOut:
    """One command to many assets: one child command per target, all written or none."""
    return await audit.refused(
        ctx,
        "command_batch.create",
        lambda: _create_batch(ctx, body),
        target_type="command_batch",
        name=body.name,
        type=body.type,
    )


async def _create_batch(ctx: Context, body: BatchCreate, retry_of: str | None = None) -> BatchOut:
    ctx.principal.require(Permission.COMMAND_SEND)
    CATALOGUE.require(body.type)
    refs, described = await _targets(ctx, body)
    checked = policy.check(
        ctx.principal,
        ctx.settings,
        body.type,
        body.name,
        body.params,
        body.reason,
        policy.Timing(body.timeout_s, body.expires_in_s),
        critical_because=_batch_critical(ctx, body, len(refs)),
    )
    now = utcnow()
    batch_id = new_id()
    rows = [_row(ctx, checked, ref, now, body.reason, batch_id) for ref in refs]
    communes = sorted({r.commune for r in refs})
    batch = CommandBatch(
        id=batch_id,
        name=body.name,
        asset_type=body.type,
        params=checked.params,
        target=described,
        communes=communes,
        total=len(rows),
        critical=checked.critical,
        reason=body.reason,
        state=(
            BatchState.AWAITING_APPROVAL if checked.needs_approval else BatchState.RUNNING
        ).value,
        created_at=now,
        created_by=ctx.principal.name,
        created_by_user_id=ctx.principal.user_id,
        approval_expires_at=rows[0]["approval_expires_at"],
        retry_of=retry_of,
    )
    async with ctx.db.write() as session:
        session.add(batch)
        await session.flush()
        await _insert_commands(session, rows)
        events = await history.record(session, _moves(ctx, rows, now))
        await wakeup.notify(session)
        await audit.record(
            session,
            ctx.principal,
            "command_batch.create",
            target_type="command_batch",
            target_id=batch_id,
            commune=communes[0] if len(communes) == 1 else None,
            reason=body.reason,
            details={
                "name": body.name,
                "type": body.type,
                "params": checked.params,
                "target": described,
                "total": len(rows),
                "communes": communes,
                "critical": checked.critical,
                "state": batch.state,
                "retry_of": retry_of,
            },
        )
    ctx.runtime.events.publish(BatchChanged(batch_id, batch.state, now))
    ctx.runtime.events.publish_many(events)
    return await get_batch(ctx, batch_id)


async def _load_batch(
    session: AsyncSession, ctx: Context, batch_id: str, *, lock: bool
) -> CommandBatch:
    stmt = select(CommandBatch).where(CommandBatch.id == batch_id)
    if lock:
        stmt = stmt.with_for_update()
    batch = (await session.execute(stmt)).scalar_one_or_none()
    # A batch is shown whole or not at all: to whoever sees every commune it touches.
    if batch is None or not ctx.principal.covers(batch.communes):
        raise NotFound(f"command batch {batch_id!r} not found")
    return batch


async def _batch_out(session: AsyncSession, batch: CommandBatch) -> BatchOut:
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
        return await _batch_out(session, await _load_batch(session, ctx, batch_id, lock=False))


async def list_batches(ctx: Context, limit: int = 50) -> list[BatchOut]:
    """The newest group commands the caller may see whole."""
    ctx.principal.require(Permission.COMMAND_READ)
    async with ctx.db.read() as session:
        stmt = select(CommandBatch).order_by(CommandBatch.created_at.desc())
        out: list[BatchOut] = []
        result = await session.stream_scalars(stmt.execution_options(yield_per=200))
        async for batch in result:
            if ctx.principal.covers(batch.communes):
                out.append(await _batch_out(session, batch))
                if len(out) >= limit:
                    break
        await result.close()
    return out


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
) -> BatchOut:
    async def run() -> BatchOut:
        ctx.principal.require(Permission.COMMAND_READ)
        now = utcnow()
        async with ctx.db.write() as session:
            batch = await _load_batch(session, ctx, batch_id, lock=True)
            if approval:
                policy.may_approve(ctx.principal, batch.created_by_user_id, batch.created_by)
                if batch.state != BatchState.AWAITING_APPROVAL:
                    raise Conflict(
                        f"batch {batch_id!r} is {batch.state}, not awaiting approval",
                        current_state=batch.state,
                    )
                _require_in_time(batch.approval_expires_at, f"batch {batch_id!r}")
            else:
                _require_cancel(ctx, batch.asset_type, batch.name)
            # Lock the children in id order first (as the tracker and the clock do), then
            # move them all with one statement: a batch may hold the whole city.
            chosen = and_(Command.batch_id == batch_id, Command.state.in_(list(from_states)))
            await session.execute(
                select(Command.id).where(chosen).order_by(Command.id).with_for_update()
            )
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
            moved = await session.execute(
                update(Command)
                .where(chosen)
                .values(values)
                .returning(Command.id, Command.asset_id, Command.name, Command.verification)
                .execution_options(synchronize_session=False)
            )
            detail = {"reason": reason} if reason else None
            moves = [
                Move(
                    r.id,
                    r.asset_id,
                    batch_id,
                    r.name,
                    to_state.value,
                    r.verification,
                    now,
                    ctx.principal.name,
                    ctx.principal.kind.value,
                    detail,
                )
                for r in moved
            ]
            if to_state is CommandState.QUEUED:
                await wakeup.notify(session)
            batch.state = batch_state.value
            batch.decided_by = ctx.principal.name
            batch.decided_at = now
            events = await history.record(session, moves)
            await audit.record(
                session,
                ctx.principal,
                action,
                target_type="command_batch",
                target_id=batch_id,
                commune=batch.communes[0] if len(batch.communes) == 1 else None,
                reason=reason,
                details={"commands": len(moves), "state": batch_state.value},
            )
            out = await _batch_out(session, batch)
        ctx.runtime.events.publish(BatchChanged(batch_id, batch_state.value, now))
        ctx.runtime.events.publish_many(events)
        return out

    return await audit.refused(ctx, action, run, target_type="command_batch", target_id=batch_id)


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
    if not reason:
        raise InvalidInput(FieldError("reason", "required to refuse a batch"))
    return await _decide_batch(
        ctx,
        batch_id,
        "command_batch.deny",
        reason,
        frozenset({CommandState.AWAITING_APPROVAL}),
        CommandState.REJECTED,
        BatchState.REJECTED,
        approval=True,
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


RETRYABLE = frozenset({CommandState.FAILED, CommandState.EXPIRED, CommandState.REJECTED})


async def retry_batch(ctx: Context, batch_id: str, reason: str | None = None) -> BatchOut:
    """A new batch of the same command to the children that failed, expired or were
    rejected by their device (not those a person refused or cancelled)."""

    async def run() -> BatchOut:
        ctx.principal.require(Permission.COMMAND_READ)
        async with ctx.db.read() as session:
            batch = await _load_batch(session, ctx, batch_id, lock=False)
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
            target=Target(kind=TargetKind.IDS, asset_ids=ids),
            reason=reason or batch.reason,
        )
        return await _create_batch(ctx, body, retry_of=batch_id)

    return await audit.refused(
        ctx, "command_batch.retry", run, target_type="command_batch", target_id=batch_id
    )
