"""Plans and notification lists: write them (each checked whole, nothing half-written),
read those of one's scope. A plan's command steps are checked against the assets of its
communes when it is written, so a plan never names what its author may not command."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlsplit

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.catalogue import CATALOGUE
from beffroi.commands import targets
from beffroi.commands.schemas import BatchCreate
from beffroi.communes.service import resolve_codes
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.notifications.states import Channel
from beffroi.plans.models import NotifyList, Plan
from beffroi.plans.schemas import (
    CommandStep,
    CrisisPlanCreate,
    CrisisPlanOut,
    NotifyListCreate,
    NotifyListOut,
    NotifyStep,
    Recipient,
    StepSpec,
)

STEPS: TypeAdapter[list[StepSpec]] = TypeAdapter(list[StepSpec])


def visible(principal: Principal, communes: list[str] | None) -> bool:
    """Whether a plan, list or run of ``communes`` (``None``: the metropolis) is in scope:
    only when all its communes are (a Talant user sees the plans within Talant)."""
    return principal.covers(communes)


async def communes_of(ctx: Context, refs: list[str] | None) -> list[str] | None:
    """Commune codes of a plan or list, each within the author's scope."""
    if refs is None:
        ctx.principal.require_commune(None)
        return None
    if not refs:
        raise InvalidInput(FieldError("communes", "name at least one commune, or leave it out"))
    async with ctx.db.read() as session:
        codes = await resolve_codes(session, refs, "communes")
    for code in codes:
        ctx.principal.require_commune(code)
    return codes


def narrowed(principal: Principal, communes: list[str] | None) -> Principal:
    """The principal restricted to a plan's communes (targets are resolved in these)."""
    if communes is None:
        return principal
    mine = set(communes) if principal.communes is None else set(communes) & principal.communes
    return dataclasses.replace(principal, communes=frozenset(mine))


def batch_of(step: CommandStep, reason: str | None = None) -> BatchCreate:
    """The group command a command step sends."""
    return BatchCreate(
        type=step.type, name=step.name, params=step.params, target=step.target, reason=reason
    )


async def _check_command(ctx: Context, index: int, step: CommandStep) -> None:
    where = f"steps[{index}]"
    type_spec = CATALOGUE.require(step.type, f"{where}.type")
    spec = type_spec.command(step.name)
    if spec is None:
        raise InvalidInput(FieldError(f"{where}.name", f"no command {step.name!r}"))
    if spec.in_session:
        # Steered within a view session by a habilitated agent, never by a plan.
        raise InvalidInput(FieldError(f"{where}.name", "sent within a video session only"))
    try:
        await targets.resolve(ctx, batch_of(step))
    except (InvalidInput, NotFound) as exc:
        raise InvalidInput(FieldError(f"{where}.target", exc.detail)) from None


async def _check_steps(ctx: Context, steps: list[Any], communes: list[str] | None) -> None:
    scoped = dataclasses.replace(ctx, principal=narrowed(ctx.principal, communes))
    lists: set[int] = set()
    for index, step in enumerate(steps):
        if isinstance(step, CommandStep):
            await _check_command(scoped, index, step)
        elif isinstance(step, NotifyStep):
            lists.add(step.list_id)
    if not lists:
        return
    async with ctx.db.read() as session:
        found = {
            row.id: row
            for row in (await session.execute(select(NotifyList).where(NotifyList.id.in_(lists))))
            .scalars()
            .all()
        }
    for index, step in enumerate(steps):
        if isinstance(step, NotifyStep):
            row = found.get(step.list_id)
            if row is None or not visible(scoped.principal, row.communes):
                raise InvalidInput(
                    FieldError(f"steps[{index}].list_id", f"no notification list {step.list_id}")
                )


async def _unique(session: AsyncSession, model: Any, name: str) -> None:
    if (await session.execute(select(model.id).where(model.name == name))).first():
        raise Conflict(f"{name!r} already exists")


async def create_plan(ctx: Context, body: CrisisPlanCreate) -> CrisisPlanOut:
    """Write a plan, its steps checked (commands, their targets within its communes,
    the lists it notifies)."""
    async with change(
        ctx, "plan.create", target_type="plan", refused_details={"name": body.name}
    ) as uc:
        ctx.principal.require(Permission.PLAN_WRITE)
        # Read through sessions of their own, before the use case's first statement.
        communes = await communes_of(ctx, body.communes)
        await _check_steps(ctx, list(body.steps), communes)
        await _unique(uc.session, Plan, body.name)
        now = utcnow()
        row = Plan(
            name=body.name,
            kind=body.kind.value,
            description=body.description,
            communes=communes,
            steps=STEPS.dump_python(body.steps, mode="json"),
            version=1,
            created_at=now,
            created_by=ctx.principal.name,
            updated_at=now,
            updated_by=ctx.principal.name,
        )
        uc.session.add(row)
        await uc.session.flush()
        uc.audit(
            target_id=row.id,
            commune=communes[0] if communes and len(communes) == 1 else None,
            details={"name": row.name, "kind": row.kind, "communes": communes, "steps": row.steps},
        )
        out = CrisisPlanOut.model_validate(row)
    return out


async def load_plan(session: AsyncSession, principal: Principal, plan_id: int) -> Plan:
    """A plan of the caller's scope, or :class:`NotFound`."""
    row = await session.get(Plan, plan_id)
    if row is None or not visible(principal, row.communes):
        raise NotFound(f"plan {plan_id} not found")
    return row


async def list_plans(ctx: Context) -> list[CrisisPlanOut]:
    """The plans within the caller's scope, by name."""
    ctx.principal.require(Permission.PLAN_READ)
    async with ctx.db.read() as session:
        rows = (await session.execute(select(Plan).order_by(Plan.name))).scalars().all()
    return [CrisisPlanOut.model_validate(r) for r in rows if visible(ctx.principal, r.communes)]


async def get_plan(ctx: Context, plan_id: int) -> CrisisPlanOut:
    """One plan of the caller's scope."""
    ctx.principal.require(Permission.PLAN_READ)
    async with ctx.db.read() as session:
        return CrisisPlanOut.model_validate(await load_plan(session, ctx.principal, plan_id))


def _check_recipient(index: int, recipient: Recipient) -> None:
    field = f"recipients[{index}].target"
    target = recipient.target.strip()
    if recipient.channel is Channel.EMAIL:
        local, _, domain = target.partition("@")
        if not local or "." not in domain or any(c.isspace() for c in target):
            raise InvalidInput(FieldError(field, "not an e-mail address"))
    else:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput(FieldError(field, "not an http(s) URL"))


async def create_list(ctx: Context, body: NotifyListCreate) -> NotifyListOut:
    """Write a notification list."""
    async with change(
        ctx,
        "plan_notify_list.create",
        target_type="plan_notify_list",
        refused_details={"name": body.name},
    ) as uc:
        ctx.principal.require(Permission.PLAN_WRITE)
        for index, recipient in enumerate(body.recipients):
            _check_recipient(index, recipient)
        communes = await communes_of(ctx, body.communes)
        await _unique(uc.session, NotifyList, body.name)
        row = NotifyList(
            name=body.name,
            communes=communes,
            recipients=[r.model_dump(mode="json") for r in body.recipients],
            created_at=utcnow(),
            created_by=ctx.principal.name,
        )
        uc.session.add(row)
        await uc.session.flush()
        uc.audit(
            target_id=row.id,
            commune=communes[0] if communes and len(communes) == 1 else None,
            details={"name": row.name, "communes": communes, "recipients": len(row.recipients)},
        )
        out = NotifyListOut.model_validate(row)
    return out


async def list_lists(ctx: Context) -> list[NotifyListOut]:
    """The notification lists within the caller's scope, by name."""
    ctx.principal.require(Permission.PLAN_READ)
    async with ctx.db.read() as session:
        rows = (await session.execute(select(NotifyList).order_by(NotifyList.name))).scalars()
        return [NotifyListOut.model_validate(r) for r in rows if visible(ctx.principal, r.communes)]
