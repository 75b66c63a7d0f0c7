"""People's decisions on alarms: acknowledge, comment, assign, shelve, unshelve, clear.

Each is checked (permission, commune scope, the operator's domain, the alarm's state),
written with its history line and its audit entry in one transaction, and announced on
the event hub after the commit. A refused decision is audited too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.accounts import queries as account_queries
from beffroi.alarms.drafts import clear_row
from beffroi.alarms.history import Entry, write
from beffroi.alarms.lifecycle import ACTIVE, Action, AlarmState
from beffroi.alarms.models import Alarm
from beffroi.alarms.reading import children_counts, load, to_out
from beffroi.alarms.root_causes import ungroup
from beffroi.alarms.schemas import AlarmOut
from beffroi.catalogue import Domain
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, PermissionDenied
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change

TARGET = "alarm"


def _require_handler(ctx: Context, row: Alarm) -> None:
    principal = ctx.principal
    principal.require(Permission.ALARM_HANDLE)
    principal.require_commune(row.commune_code)
    if row.domain and not principal.in_domain(Domain(row.domain)):
        raise PermissionDenied(f"{principal.name} does not work in the {row.domain} domain")


def _conflict(row: Alarm, action: str, why: str) -> Conflict:
    return Conflict(f"cannot {action} alarm {row.id}: {why}", current_state=row.state)


Decide = Callable[[AsyncSession, Alarm, datetime], Awaitable[list[Entry]]]


async def _decide(
    ctx: Context,
    alarm_id: int,
    action: str,
    decide: Decide,
    *,
    reason: str | None = None,
) -> AlarmOut:
    """Load and lock the alarm, check the right to handle it, apply ``decide`` (which
    returns history entries or raises), then audit and write in one transaction."""
    async with change(ctx, f"alarm.{action}", target_type=TARGET, target_id=alarm_id) as uc:
        now = utcnow()
        row = await load(uc.session, ctx, alarm_id, lock=True)
        _require_handler(ctx, row)
        before = row.state
        entries = await decide(uc.session, row, now)
        row.updated_at = now
        uc.audit(
            target_id=row.id,
            commune=row.commune_code,
            reason=reason,
            details={"from": before, "to": row.state, "alarm_type": row.alarm_type},
        )
        uc.publish(*await write(uc.session, entries))
        children = await children_counts(uc.session, [row.id])
        out = to_out(row, children.get(row.id, 0), now)
    return out


def _entry(ctx: Context, row: Alarm, action: Action, now: datetime, **detail: object) -> Entry:
    return Entry(
        row,
        action,
        now,
        ctx.principal.name,
        ctx.principal.kind.value,
        {k: v for k, v in detail.items() if v is not None},
    )


async def acknowledge(
    ctx: Context, alarm_id: int, text: str | None = None, *, with_children: bool = True
) -> AlarmOut:
    """Acknowledge an alarm (and, for a root cause, the alarms grouped under it)."""

    async def decide(session: AsyncSession, row: Alarm, now: datetime) -> list[Entry]:
        if AlarmState(row.state).acknowledged:
            raise _conflict(row, "acknowledge", f"it is already {row.state}")
        entries = [_ack(ctx, row, now, text)]
        if with_children:
            children = await session.execute(
                select(Alarm)
                .where(
                    Alarm.parent_id == row.id,
                    Alarm.state.in_(
                        [AlarmState.ACTIVE_UNACKNOWLEDGED, AlarmState.CLEARED_UNACKNOWLEDGED]
                    ),
                )
                .order_by(Alarm.id)
                .with_for_update()
            )
            for child in children.scalars():
                entries.append(_ack(ctx, child, now, None, root=row.id))
        entries += await _finish(session, row, now)
        return entries

    return await _decide(ctx, alarm_id, "acknowledge", decide, reason=text)


def _ack(
    ctx: Context, row: Alarm, now: datetime, text: str | None, root: int | None = None
) -> Entry:
    row.state = AlarmState(row.state).acknowledge().value
    row.acknowledged_at = now
    row.acknowledged_by = ctx.principal.name
    row.updated_at = now
    return _entry(ctx, row, Action.ACKNOWLEDGED, now, text=text, with_root=root)


async def _finish(session: AsyncSession, row: Alarm, now: datetime) -> list[Entry]:
    """A root cause that is cleared and acknowledged lets go of its children."""
    if row.state != AlarmState.CLEARED_ACKNOWLEDGED:
        return []
    await session.flush()
    return await ungroup(session, [row.id], now)


async def comment(ctx: Context, alarm_id: int, text: str) -> AlarmOut:
    """Add a comment to an alarm's history (any state)."""

    async def decide(session: AsyncSession, row: Alarm, now: datetime) -> list[Entry]:
        return [_entry(ctx, row, Action.COMMENTED, now, text=text)]

    return await _decide(ctx, alarm_id, "comment", decide)


async def assign(ctx: Context, alarm_id: int, user: str | None) -> AlarmOut:
    """Give an alarm to a person (who must be active and see its commune), or take it
    back (``None``)."""

    async def decide(session: AsyncSession, row: Alarm, now: datetime) -> list[Entry]:
        if row.state == AlarmState.CLEARED_ACKNOWLEDGED:
            raise _conflict(row, "assign", "it is cleared and acknowledged")
        if user is not None:
            person = await account_queries.person_named(session, user)
            works_there = person is not None and person.works_in(row.commune_code)
            # One answer for a missing person and one elsewhere, so names reveal nothing.
            if person is None or person.disabled or not works_there:
                raise InvalidInput(
                    FieldError("user", f"no active user {user!r} working in {row.commune_code!r}")
                )
        if row.assigned_to == user:
            raise _conflict(row, "assign", f"it is already assigned to {user!r}")
        before = row.assigned_to
        row.assigned_to = user
        return [_entry(ctx, row, Action.ASSIGNED, now, to=user, previous=before)]

    return await _decide(ctx, alarm_id, "assign", decide)


async def shelve(ctx: Context, alarm_id: int, minutes: int, reason: str) -> AlarmOut:
    """Hide an active alarm from the list for ``minutes``; it comes back by itself."""

    async def decide(session: AsyncSession, row: Alarm, now: datetime) -> list[Entry]:
        if AlarmState(row.state) not in ACTIVE:
            raise _conflict(row, "shelve", f"it is {row.state}")
        row.shelved_until = now + timedelta(minutes=minutes)
        row.shelved_by = ctx.principal.name
        row.shelve_reason = reason
        until = row.shelved_until.isoformat()
        return [_entry(ctx, row, Action.SHELVED, now, until=until, reason=reason)]

    return await _decide(ctx, alarm_id, "shelve", decide, reason=reason)


async def unshelve(ctx: Context, alarm_id: int) -> AlarmOut:
    """Put a shelved alarm back on the list before its time."""

    async def decide(session: AsyncSession, row: Alarm, now: datetime) -> list[Entry]:
        if row.shelved_until is None or row.shelved_until <= now:
            raise _conflict(row, "unshelve", "it is not shelved")
        row.shelved_until = None
        return [_entry(ctx, row, Action.UNSHELVED, now)]

    return await _decide(ctx, alarm_id, "unshelve", decide)


async def clear(ctx: Context, alarm_id: int, reason: str) -> AlarmOut:
    """Clear an active alarm by hand, with a reason (the device will raise it again if
    the fault is still there)."""

    async def decide(session: AsyncSession, row: Alarm, now: datetime) -> list[Entry]:
        if AlarmState(row.state) not in ACTIVE:
            raise _conflict(row, "clear", f"it is already {row.state}")
        entries = [clear_row(row, now, ctx.principal.name, ctx.principal.kind.value, reason, now)]
        return entries + await _finish(session, row, now)

    return await _decide(ctx, alarm_id, "clear", decide, reason=reason)
