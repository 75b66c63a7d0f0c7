"""Writing commands' transitions: the same rows whoever causes the move."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms import raising
from beffroi.alarms.lifecycle import COMMAND_FAILED, AlarmSource
from beffroi.alarms.signals import AlarmSignal
from beffroi.catalogue import Severity
from beffroi.commands.events import CommandChanged
from beffroi.commands.lifecycle import CommandState
from beffroi.commands.models import Command, CommandTransition
from beffroi.db import Base
from beffroi.db.copy import insert_rows

CHUNK = 5000
FAILED_STATES = frozenset({CommandState.FAILED, CommandState.REJECTED, CommandState.EXPIRED})


class CommandRow(Protocol):
    """What a move needs of a command: an ORM row or the plain values a hot path reads."""

    id: str
    asset_id: str
    batch_id: str | None
    name: str
    state: str
    verification: str


@dataclass(frozen=True, slots=True)
class Move:
    """A command entering a state (or a verification outcome), and who caused it."""

    command_id: str
    asset_id: str
    batch_id: str | None
    name: str
    state: str
    verification: str
    at: datetime
    actor: str
    actor_kind: str
    detail: dict[str, Any] | None = None
    # A verification outcome changes no state: it is an event, not a transition row.
    transition: bool = True

    @classmethod
    def of(
        cls,
        row: CommandRow,
        at: datetime,
        actor: str,
        actor_kind: str,
        detail: dict[str, Any] | None,
        *,
        transition: bool = True,
    ) -> Move:
        """The move a command row has just made (its current state and verification)."""
        return cls(
            row.id,
            row.asset_id,
            row.batch_id,
            row.name,
            row.state,
            row.verification,
            at,
            actor,
            actor_kind,
            detail,
            transition,
        )

    def event(self) -> CommandChanged:
        """The hub event announcing it."""
        return CommandChanged(
            self.command_id,
            self.asset_id,
            self.batch_id,
            self.name,
            self.state,
            self.verification,
            self.at,
        )


async def record(session: AsyncSession, moves: Sequence[Move]) -> list[object]:
    """Insert the transition rows of ``moves``; returns their hub events."""
    rows = [
        {
            "command_id": m.command_id,
            "state": m.state,
            "at": m.at,
            "actor": m.actor,
            "actor_kind": m.actor_kind,
            "detail": m.detail,
        }
        for m in moves
        if m.transition
    ]
    await insert_rows(session, Base.metadata.tables[CommandTransition.__tablename__], rows)
    events: list[object] = [m.event() for m in moves]
    signals = alarm_signals(moves)
    if signals:
        events += await raising.apply(session, signals, max(m.at for m in moves))
    return events


def alarm_signals(moves: Sequence[Move]) -> list[AlarmSignal]:
    """A command that failed, was rejected or expired raises a ``commandFailed`` alarm on
    its asset; a later command that succeeds shows the asset obeys again and clears it."""
    out: list[AlarmSignal] = []
    for m in moves:
        if not m.transition:
            continue
        if m.state in FAILED_STATES:
            detail = {"command_id": m.command_id, "name": m.name, "state": m.state}
            out.append(
                AlarmSignal(
                    m.asset_id,
                    COMMAND_FAILED,
                    True,
                    m.at,
                    AlarmSource.COMMAND,
                    Severity.MINOR,
                    detail,
                )
            )
        elif m.state == CommandState.SUCCEEDED:
            out.append(AlarmSignal(m.asset_id, COMMAND_FAILED, False, m.at, AlarmSource.COMMAND))
    return out


# The columns that change after a command is created.
MUTABLE = (
    "state",
    "verification",
    "attempts",
    "next_attempt_at",
    "sent_at",
    "reply_due_at",
    "replied_at",
    "finished_at",
    "verify_by",
    "verified_at",
    "result",
)


async def write_back(
    session: AsyncSession, rows: Sequence[Any], now: datetime, columns: Sequence[str] = MUTABLE
) -> None:
    """Write ``columns`` of changed rows (ORM objects or plain ones) with one executemany
    rather than one UPDATE per ORM flush (a batch of 34,000 moves at once). ORM rows are
    detached so no flush writes them again."""
    if not rows:
        return
    table = Base.metadata.tables["commands"]
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values({c: bindparam(f"b_{c}") for c in (*columns, "updated_at")})
    )
    params = [
        {"b_id": r.id, "b_updated_at": now, **{f"b_{c}": getattr(r, c) for c in columns}}
        for r in rows
    ]
    for r in rows:
        if isinstance(r, Command) and r in session:
            session.expunge(r)
    for start in range(0, len(params), CHUNK):
        await session.execute(stmt, params[start : start + CHUNK])
