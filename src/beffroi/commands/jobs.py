"""The clock of commands: what no reply will ever close.

Run every second or so by the gateway (and callable from anywhere): approval requests
that were not answered, commands past their lifetime, sends that got no reply in time
(retried when the command is idempotent), and verifications that never came. After a
pass no command is left open past its expiry.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi import metrics
from beffroi.commands import history
from beffroi.commands.events import BatchChanged
from beffroi.commands.history import Move
from beffroi.commands.lifecycle import BatchState, CommandState, Verification
from beffroi.commands.models import Command, CommandBatch
from beffroi.core.events import DomainEvent, EventHub
from beffroi.core.time import utcnow
from beffroi.db import Database

log = structlog.get_logger(__name__)

HUB = "hub"
PASS_LIMIT = 5000

S = CommandState


@dataclass(slots=True)
class Closed:
    """What one pass did."""

    expired: int = 0
    retried: int = 0
    unconfirmed: int = 0
    events: list[DomainEvent] = field(default_factory=list)


async def _locked(session: AsyncSession, *where: ColumnElement[bool]) -> Sequence[Command]:
    stmt = select(Command).where(*where).order_by(Command.id).limit(PASS_LIMIT).with_for_update()
    return list((await session.execute(stmt)).scalars())


def _full(rows: Sequence[Command]) -> bool:
    return len(rows) >= PASS_LIMIT


def hub_move(
    row: Command, now: datetime, detail: dict[str, object], *, transition: bool = True
) -> Move:
    """A move the hub itself causes."""
    return Move.of(row, now, HUB, "system", detail, transition=transition)


def expire(row: Command, now: datetime, why: str) -> None:
    """Close a command the device did not finish in time."""
    row.state = S.EXPIRED.value
    row.finished_at = now
    row.result = {"reason": why}
    if row.verification == Verification.PENDING:
        row.verification = Verification.NOT_APPLICABLE.value


async def close_overdue(
    db: Database, now: datetime | None = None, *, retries: bool = True
) -> Closed:
    """Close everything overdue, in passes of at most :data:`PASS_LIMIT` commands per
    kind (one transaction each); returns what it closed and the events to publish.

    ``retries=False`` leaves sends without a reply alone (until their expiry): the
    gateway says so while replies may still wait in its own ingest queue, and a process
    that does not ingest cannot know."""
    now = now or utcnow()
    done = Closed()
    while await _pass(db, now, done, retries):
        pass
    if done.expired:
        metrics.COMMANDS_CLOSED.labels("expired").inc(done.expired)
    if done.retried:
        metrics.COMMANDS_CLOSED.labels("retried").inc(done.retried)
    return done


async def _pass(db: Database, now: datetime, done: Closed, retries: bool) -> bool:
    """One pass; True when a kind filled its limit, so another pass is needed."""
    full = False
    async with db.write() as session:
        with session.no_autoflush:
            changed: dict[str, Command] = {}
            moves: list[Move] = []
            unapproved = await _locked(
                session,
                Command.state == S.AWAITING_APPROVAL,
                Command.approval_expires_at <= now,
            )
            for row in unapproved:
                expire(row, now, "not approved in time")
                changed[row.id] = row
                moves.append(hub_move(row, now, {"reason": "not approved in time"}))
            open_states = [S.AWAITING_APPROVAL, S.QUEUED, S.SENT, S.ACCEPTED]
            past = await _locked(session, Command.state.in_(open_states), Command.expires_at <= now)
            for row in past:
                if row.id in changed:
                    continue
                why = (
                    "expired before it was sent"
                    if row.state == S.QUEUED
                    else "expired before the device finished"
                )
                expire(row, now, why)
                changed[row.id] = row
                moves.append(hub_move(row, now, {"reason": why}))
            silent = (
                await _locked(session, Command.state == S.SENT, Command.reply_due_at <= now)
                if retries
                else []
            )
            for row in silent:
                if row.id in changed:
                    continue
                if row.attempts < row.max_attempts:
                    row.state = S.QUEUED.value
                    row.next_attempt_at = now
                    done.retried += 1
                    moves.append(
                        hub_move(row, now, {"reason": f"no reply after attempt {row.attempts}"})
                    )
                else:
                    why = f"no reply after {row.attempts} attempt(s)"
                    expire(row, now, why)
                    moves.append(hub_move(row, now, {"reason": why}))
                changed[row.id] = row
            unverified = await _locked(
                session,
                Command.verification == Verification.PENDING,
                Command.verify_by <= now,
            )
            for row in unverified:
                if row.id in changed:
                    continue
                row.verification = Verification.UNCONFIRMED.value
                changed[row.id] = row
                done.unconfirmed += 1
                moves.append(
                    hub_move(
                        row, now, {"reason": "no report of the state in time"}, transition=False
                    )
                )
            done.expired += sum(1 for r in changed.values() if r.state == S.EXPIRED)
            full = any(_full(rows) for rows in (unapproved, past, silent, unverified))
            await history.write_back(session, list(changed.values()), now)
            done.events += await history.record(session, moves)
            batches = await session.execute(
                update(CommandBatch)
                .where(
                    CommandBatch.state == BatchState.AWAITING_APPROVAL,
                    CommandBatch.approval_expires_at <= now,
                )
                .values(state=BatchState.EXPIRED, decided_at=now, decided_by=HUB)
                .returning(CommandBatch.id)
            )
            done.events += [
                BatchChanged(b, BatchState.EXPIRED.value, now) for b in batches.scalars()
            ]
    return full


async def run_clock(db: Database, events: EventHub, stop: asyncio.Event, period_s: float) -> None:
    """Expire overdue commands every ``period_s`` until ``stop`` (the API process runs
    it, so commands expire on time even while no gateway runs; sending again is left to
    the gateway)."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=period_s)
        if stop.is_set():
            return
        try:
            events.publish_many((await close_overdue(db, retries=False)).events)
        except Exception:  # logged; the next period tries again
            log.exception("closing overdue commands failed")
