"""Legal holds: footage of cameras over a period kept beyond retention for a judicial
procedure. Placing and lifting each need two people holding ``video:manage``: one asks,
another approves (four-eyes, as critical commands and overrides)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as assets
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.db.rows import Derived
from beffroi.video import coverage, register
from beffroi.video.lifecycle import HOLDING, EntryKind, HoldState
from beffroi.video.models import LegalHold
from beffroi.video.register import Draft
from beffroi.video.schemas import HoldCreate, HoldDecision, HoldOut


def state_of(row: LegalHold) -> HoldState:
    """Where a hold stands, from the moments set on it."""
    if row.refused_at is not None:
        return HoldState.REFUSED
    if row.placed_at is None:
        return HoldState.REQUESTED
    if row.lifted_at is not None:
        return HoldState.LIFTED
    if row.lift_requested_at is not None:
        return HoldState.LIFT_REQUESTED
    return HoldState.PLACED


def out(row: LegalHold) -> HoldOut:
    """The API shape of a hold."""
    return HoldOut.model_validate(Derived(row, state=state_of(row)))


def second_person(principal: Principal, asked_by_user_id: int | None, asked_by: str) -> None:
    """The four-eyes rule: ``video:manage``, and not the person who asked."""
    principal.require(Permission.VIDEO_MANAGE)
    same = principal.user_id is not None and principal.user_id == asked_by_user_id
    if same or principal.name == asked_by:
        raise PermissionDenied(
            "the four-eyes rule: a hold is approved by someone else than who asked"
        )


async def holding(session: AsyncSession) -> list[LegalHold]:
    """The holds in force (placed, not lifted): what retention must keep."""
    query = select(LegalHold).where(LegalHold.placed_at.is_not(None), LegalHold.lifted_at.is_(None))
    return [r for r in (await session.execute(query)).scalars() if state_of(r) in HOLDING]


async def _load(session: AsyncSession, principal: Principal, hold_id: int) -> LegalHold:
    query = select(LegalHold).where(LegalHold.id == hold_id).with_for_update()
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None or not principal.covers(row.communes):
        raise NotFound("legal hold not found")
    return row


def _drafts(row: LegalHold, kind: EntryKind, reason: str, communes: dict[str, str]) -> list[Draft]:
    details = {
        "hold_id": row.id,
        "reference": row.reference,
        "start": row.period_start.isoformat(),
        "end": row.period_end.isoformat(),
        "asked_by": row.lift_requested_by if kind is EntryKind.HOLD_LIFTED else row.requested_by,
    }
    return [Draft(kind, c, communes.get(c), reason=reason, details=details) for c in row.cameras]


async def request_hold(ctx: Context, body: HoldCreate) -> HoldOut:
    """Ask for a hold; it holds nothing until another manager approves it."""
    async with change(ctx, "video.hold.request", target_type="video_hold") as uc:
        ctx.principal.require(Permission.VIDEO_MANAGE)
        if body.period_end <= body.period_start:
            raise InvalidInput(FieldError("period_end", "must be after period_start"))
        found = await coverage.cameras(uc.session, ctx.principal, body.cameras)
        row = LegalHold(
            cameras=list(found),
            communes=sorted({f.commune for f in found.values()}),
            period_start=body.period_start,
            period_end=body.period_end,
            reference=body.reference,
            reason=body.reason,
            requested_by=ctx.principal.name,
            requested_by_user_id=ctx.principal.user_id,
            requested_at=utcnow(),
        )
        uc.session.add(row)
        await uc.session.flush()
        uc.audit(
            target_id=row.id,
            reason=body.reason,
            details={"reference": body.reference, "cameras": row.cameras},
        )
    return out(row)


async def approve_hold(ctx: Context, hold_id: int, body: HoldDecision) -> HoldOut:
    """A second manager approves what is asked: placing the hold, or lifting it."""
    async with change(ctx, "video.hold.approve", target_type="video_hold", target_id=hold_id) as uc:
        ctx.principal.require(Permission.VIDEO_MANAGE)
        row = await _load(uc.session, ctx.principal, hold_id)
        state, now = state_of(row), utcnow()
        found = await assets.facts(uc.session, row.cameras)
        communes = {k: f.commune for k, f in found.items()}
        if state is HoldState.REQUESTED:
            second_person(ctx.principal, row.requested_by_user_id, row.requested_by)
            row.placed_by, row.placed_at = ctx.principal.name, now
            drafts = _drafts(row, EntryKind.HOLD_PLACED, row.reason, communes)
        elif state is HoldState.LIFT_REQUESTED:
            second_person(ctx.principal, row.lift_requested_by_user_id, row.lift_requested_by or "")
            row.lifted_by, row.lifted_at = ctx.principal.name, now
            drafts = _drafts(row, EntryKind.HOLD_LIFTED, row.lift_reason or "", communes)
        else:
            raise Conflict(
                f"legal hold {hold_id} awaits no approval: it is {state}", current_state=state.value
            )
        await register.append(uc.session, ctx.principal, drafts)
        uc.audit(reason=body.reason, details={"state": state_of(row).value})
    return out(row)


async def refuse_hold(ctx: Context, hold_id: int, body: HoldDecision) -> HoldOut:
    """Refuse what is asked, with a reason: a hold asked is refused; a lift asked is
    withdrawn and the hold stays."""
    async with change(ctx, "video.hold.refuse", target_type="video_hold", target_id=hold_id) as uc:
        ctx.principal.require(Permission.VIDEO_MANAGE)
        if not (body.reason or "").strip():
            raise InvalidInput(FieldError("reason", "required to refuse"))
        row = await _load(uc.session, ctx.principal, hold_id)
        state = state_of(row)
        if state is HoldState.REQUESTED:
            row.refused_by, row.refused_at = ctx.principal.name, utcnow()
        elif state is HoldState.LIFT_REQUESTED:
            row.lift_requested_by = row.lift_requested_at = row.lift_reason = None
            row.lift_requested_by_user_id = None
        else:
            raise Conflict(
                f"legal hold {hold_id} awaits no decision: it is {state}", current_state=state.value
            )
        uc.audit(reason=body.reason, details={"was": state.value})
    return out(row)


async def request_lift(ctx: Context, hold_id: int, body: HoldDecision) -> HoldOut:
    """Ask to lift a placed hold (the procedure ended), with a reason; another manager
    approves. Until then the hold holds."""
    async with change(ctx, "video.hold.lift", target_type="video_hold", target_id=hold_id) as uc:
        ctx.principal.require(Permission.VIDEO_MANAGE)
        if not (body.reason or "").strip():
            raise InvalidInput(FieldError("reason", "required to lift a hold"))
        row = await _load(uc.session, ctx.principal, hold_id)
        state = state_of(row)
        if state is not HoldState.PLACED:
            raise Conflict(
                f"only a placed hold is lifted; legal hold {hold_id} is {state}",
                current_state=state.value,
            )
        row.lift_requested_by, row.lift_requested_at = ctx.principal.name, utcnow()
        row.lift_requested_by_user_id, row.lift_reason = ctx.principal.user_id, body.reason
        uc.audit(reason=body.reason)
    return out(row)


def _may_read(principal: Principal) -> None:
    if not (principal.can(Permission.VIDEO_MANAGE) or principal.can(Permission.VIDEO_REGISTER)):
        raise PermissionDenied(f"{principal.name} lacks permission video:manage")


async def get_hold(ctx: Context, hold_id: int) -> HoldOut:
    """One hold in scope (managers, auditors)."""
    _may_read(ctx.principal)
    async with ctx.db.read() as session:
        row = await session.get(LegalHold, hold_id)
        if row is None or not ctx.principal.covers(row.communes):
            raise NotFound("legal hold not found")
    return out(row)


async def list_holds(ctx: Context, states: list[HoldState]) -> list[HoldOut]:
    """Holds in scope, newest first, of the states asked (all when none)."""
    _may_read(ctx.principal)
    async with ctx.db.read() as session:
        rows = (
            await session.execute(select(LegalHold).order_by(LegalHold.id.desc()).limit(5000))
        ).scalars()
        found = [r for r in rows if ctx.principal.covers(r.communes)]
    return [out(r) for r in found if not states or state_of(r) in states]
