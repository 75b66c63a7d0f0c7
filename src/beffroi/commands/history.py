"""Writing commands' transitions: the same rows whoever causes the move."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms import raising
from beffroi.alarms.lifecycle import COMMAND_FAILED, AlarmSource
from beffroi.alarms.signals import AlarmSignal
from beffroi.catalogue import Severity
from beffroi.commands.events import CommandChanged
from beffroi.commands.lifecycle import CommandState, Verification
from beffroi.commands.models import Command, CommandTransition
from beffroi.core.events import DomainEvent
from beffroi.db import Base
from beffroi.db.copy import driver_connection, insert_rows
from beffroi.db.lists import is_postgres

CHUNK = 5000
# Dictionary look-ups: calling an Enum by value costs ten times more, 34,000 times a batch.
_STATES = {s.value: s for s in CommandState}
_VERIFICATIONS = {v.value: v for v in Verification}
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
            _STATES[self.state],
            _VERIFICATIONS[self.verification],
            self.at,
        )


async def record(session: AsyncSession, moves: Sequence[Move]) -> list[DomainEvent]:
    """Insert the transition rows of ``moves``; returns their hub events. On PostgreSQL one
    ``INSERT … SELECT`` over the moves' columns as arrays (the tracker's batch of 34,000
    replies is one statement, and no row is built here)."""
    written = [m for m in moves if m.transition]
    if written and is_postgres(session):
        conn = await driver_connection(session)
        await conn.execute(
            _INSERT_PG,
            [m.command_id for m in written],
            [m.state for m in written],
            [m.at for m in written],
            [m.actor for m in written],
            [m.actor_kind for m in written],
            _json_texts([m.detail for m in written]),
        )
    elif written:
        rows = [
            {
                "command_id": m.command_id,
                "state": m.state,
                "at": m.at,
                "actor": m.actor,
                "actor_kind": m.actor_kind,
                "detail": m.detail,
            }
            for m in written
        ]
        await insert_rows(session, Base.metadata.tables[CommandTransition.__tablename__], rows)
    events: list[DomainEvent] = [m.event() for m in moves]
    signals = alarm_signals(moves)
    if signals:
        events += await raising.apply(session, signals, max(m.at for m in moves))
    return events


_INSERT_PG = (
    "INSERT INTO command_transitions (command_id, state, at, actor, actor_kind, detail) "
    "SELECT v.id, v.state, v.at, v.actor, v.kind, v.detail::jsonb FROM unnest("
    "$1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[]"
    ") AS v(id, state, at, actor, kind, detail)"
)


def _json_texts(values: Sequence[dict[str, Any] | None]) -> list[str | None]:
    """Each value as JSON text (the driver's arrays take text); one shared object (a
    batch's reason) is encoded once."""
    encoded: dict[int, str] = {}
    out: list[str | None] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        text = encoded.get(id(value))
        if text is None:
            text = encoded[id(value)] = orjson.dumps(value).decode()
        out.append(text)
    return out


class Moved(Protocol):
    """A command that has just made a move many others made with it (plain values)."""

    @property
    def id(self) -> str: ...
    @property
    def asset_id(self) -> str: ...
    @property
    def verification(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Same:
    """One move many commands make together: the state they enter, when, by whom. Their
    batch and command name are the same too (a batch's children)."""

    batch_id: str | None
    name: str
    state: str
    at: datetime
    actor: str
    actor_kind: str
    detail: dict[str, Any] | None = None


_INSERT_SAME_PG = (
    "INSERT INTO command_transitions (command_id, state, at, actor, actor_kind, detail) "
    "SELECT v.id, $2, $3, $4, $5, v.detail::jsonb "
    "FROM unnest($1::text[], $6::text[]) AS v(id, detail)"
)


async def record_same(
    session: AsyncSession,
    rows: Sequence[Moved],
    same: Same,
    details: Sequence[dict[str, Any] | None] | None = None,
) -> list[DomainEvent]:
    """Insert the transition rows of ``rows``, which all made the move ``same`` (each with
    its own detail when ``details`` is given, in the order of ``rows``), and return their
    hub events: on PostgreSQL one ``INSERT … SELECT`` over the ids, no row built here."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    each = details if details is not None else [same.detail] * len(rows)
    if is_postgres(session):
        conn = await driver_connection(session)
        await conn.execute(
            _INSERT_SAME_PG,
            ids,
            same.state,
            same.at,
            same.actor,
            same.actor_kind,
            _json_texts(each),
        )
    else:
        table = Base.metadata.tables[CommandTransition.__tablename__]
        fixed = {
            "state": same.state,
            "at": same.at,
            "actor": same.actor,
            "actor_kind": same.actor_kind,
        }
        await insert_rows(
            session,
            table,
            [{"command_id": i, **fixed, "detail": d} for i, d in zip(ids, each, strict=True)],
        )
    state = _STATES[same.state]
    events: list[DomainEvent] = [
        CommandChanged(
            r.id,
            r.asset_id,
            same.batch_id,
            same.name,
            state,
            _VERIFICATIONS[r.verification],
            same.at,
        )
        for r in rows
    ]
    if state in FAILED_STATES or state is CommandState.SUCCEEDED:
        # Rare for a whole batch (a refusal): the alarms work from moves.
        moves = [
            Move(
                r.id,
                r.asset_id,
                same.batch_id,
                same.name,
                same.state,
                r.verification,
                same.at,
                same.actor,
                same.actor_kind,
                d,
            )
            for r, d in zip(rows, each, strict=True)
        ]
        events += await raising.apply(session, alarm_signals(moves), same.at)
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


# PostgreSQL's array type for each column write_back may set (JSON goes as text).
_PG_ARRAYS = {
    "state": "text[]",
    "sent_via": "text[]",
    "verification": "text[]",
    "attempts": "int[]",
    "result": "text[]",
    **{c: "timestamptz[]" for c in MUTABLE if c.endswith("_at") or c == "verify_by"},
}


async def write_back(
    session: AsyncSession, rows: Sequence[Any], now: datetime, columns: Sequence[str] = MUTABLE
) -> None:
    """Write ``columns`` of changed rows (ORM objects or plain ones) in bulk rather than
    one UPDATE per ORM flush (a batch of 34,000 moves at once): on PostgreSQL one statement
    over the rows' values as arrays, elsewhere one executemany. ORM rows are detached so no
    flush writes them again."""
    if not rows:
        return
    for r in rows:
        if isinstance(r, Command) and r in session:
            session.expunge(r)
    if is_postgres(session):
        await _write_back_pg(session, rows, now, columns)
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
    for start in range(0, len(params), CHUNK):
        await session.execute(stmt, params[start : start + CHUNK])


async def _write_back_pg(
    session: AsyncSession, rows: Sequence[Any], now: datetime, columns: Sequence[str]
) -> None:
    # Straight to the driver, inside the session's transaction (begun by the caller's
    # reads, or by the SELECT below): an executemany costs the server one statement per row.
    conn = await session.connection()
    await conn.exec_driver_sql("SELECT 1")
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    unknown = set(columns) - _PG_ARRAYS.keys()
    if unknown:
        raise ValueError(f"not a column write_back sets: {sorted(unknown)}")
    sets = ", ".join(f"{c} = v.{c}::jsonb" if c == "result" else f"{c} = v.{c}" for c in columns)
    arrays = ", ".join(f"${n}::{_PG_ARRAYS[c]}" for n, c in enumerate(columns, start=3))
    # Only names from _PG_ARRAYS (checked above) are put in the text; values are bound.
    sql = (
        f"UPDATE commands AS c SET {sets}, updated_at = $1 "  # noqa: S608
        f"FROM unnest($2::text[], {arrays}) AS v(id, {', '.join(columns)}) "
        "WHERE c.id = v.id"
    )
    values = [[r.id for r in rows]]
    for c in columns:
        if c == "result":
            values.append(
                [None if r.result is None else orjson.dumps(r.result).decode() for r in rows]
            )
        else:
            values.append([getattr(r, c) for r in rows])
    await driver.execute(sql, now, *values)
