"""Command moves benchmark: what PostgreSQL spends moving a city-wide command's children
through their life, and what the commands' clock spends asking what is due meanwhile.

Each child of a city-wide command keeps its own row and its own audited transitions: the
approval moves every child to ``queued``, the dispatcher to ``sent``, the gateways'
replies to ``accepted``, then to ``succeeded`` (verified in the same write when the
light's report comes with the reply). Prints, in one run, on a scratch PostgreSQL database
holding ``--history`` past city-wide commands:

1. each of those moves of ``--lights`` children through the services' own writes
   (``history.write_back``, then ``history.record_same`` for the transitions and their
   alarms), one transaction each as the hub commits them, median over ``--repeat`` fresh
   batches; and one pass of the commands' clock (``jobs.close_overdue``) while the last
   batch is open, median of five;
2. the same beside the raw baseline of a layout PostgreSQL can update in place (HOT): the
   table rewritten at fillfactor 50 without the indexes on the columns a move changes. The
   share of rows written in place is read from PostgreSQL's own counters.

The figures bound what the city-wide dim can do on this machine: the approval's move and
the dispatcher's ``sent`` move must both commit before the last child leaves.

    python -m bench.command_moves [--lights 34000] [--history 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.commands import history, jobs
from beffroi.commands.lifecycle import CommandState, Verification
from beffroi.core.time import utcnow
from beffroi.db import Database
from bench.common import postgres_available, scratch_postgres, vacuum

S = CommandState
# The indexes on columns a move changes: while any exists, no move is written in place.
MOVING_INDEXES = (
    "ix_commands_state_next_attempt_at",
    "ix_commands_batch_id_state",
    "ix_commands_awaiting_verification",
)
CLOCK_RUNS = 5

_CHILDREN = """
INSERT INTO commands (id, batch_id, asset_id, asset_type, commune_code, name, params,
                      critical, state, verification, attempts, max_attempts, timeout_s,
                      created_at, created_by, expires_at, updated_at, sent_at, finished_at,
                      verified_at)
SELECT :batch || '-' || g, :batch, 'SL-' || g, 'streetlight', '21231', 'dim',
       '{"level_pct": 60}', true, :state, :verification, :attempts, 3, 30,
       now() - :age * interval '1 hour', 'bench', now() + interval '1 hour', now(),
       CASE WHEN :attempts > 0 THEN now() - :age * interval '1 hour' END,
       CASE WHEN :attempts > 0 THEN now() - :age * interval '1 hour' END,
       CASE WHEN :attempts > 0 THEN now() - :age * interval '1 hour' END
FROM generate_series(1, CAST(:lights AS integer)) AS g
"""
_IN_PLACE = """
SELECT pg_stat_get_xact_tuples_updated('commands'::regclass),
       pg_stat_get_xact_tuples_hot_updated('commands'::regclass)
"""


@dataclass(slots=True)
class _Child:
    """A child command as the hub's writes see it: plain values."""

    id: str
    asset_id: str
    batch_id: str
    name: str = "dim"
    state: str = S.AWAITING_APPROVAL.value
    verification: str = Verification.PENDING.value
    attempts: int = 0
    sent_via: str | None = None
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    reply_due_at: datetime | None = None
    replied_at: datetime | None = None
    finished_at: datetime | None = None
    verify_by: datetime | None = None
    verified_at: datetime | None = None
    result: dict[str, Any] | None = None


def _queued(c: _Child, now: datetime) -> None:
    c.state, c.next_attempt_at = S.QUEUED.value, now


def _sent(c: _Child, now: datetime) -> None:
    c.state, c.attempts, c.sent_via = S.SENT.value, c.attempts + 1, "CAB-" + c.asset_id[-2:]
    c.sent_at, c.reply_due_at, c.next_attempt_at = now, now + timedelta(seconds=30), None


def _accepted(c: _Child, now: datetime) -> None:
    c.state, c.replied_at = S.ACCEPTED.value, now


def _succeeded(c: _Child, now: datetime) -> None:
    c.state, c.finished_at = S.SUCCEEDED.value, now
    c.verification, c.verified_at = Verification.VERIFIED.value, now


@dataclass(frozen=True, slots=True)
class _Step:
    """One move of every child: its state, the columns it writes, who makes it."""

    state: S
    columns: tuple[str, ...]
    change: Callable[[_Child, datetime], None]
    actor: str
    actor_kind: str


_ANSWER = ("state", "verification", "replied_at", "finished_at", "verify_by", "verified_at")
STEPS = (
    _Step(S.QUEUED, ("state", "next_attempt_at"), _queued, "supervisor", "user"),
    _Step(
        S.SENT,
        ("state", "attempts", "sent_via", "reply_due_at", "sent_at", "next_attempt_at"),
        _sent,
        "hub",
        "system",
    ),
    _Step(S.ACCEPTED, _ANSWER, _accepted, "device", "device"),
    _Step(S.SUCCEEDED, _ANSWER, _succeeded, "device", "device"),
)


@dataclass(frozen=True, slots=True)
class _Moved:
    """What one move took: in all (with the commit), for the rows, for the transitions."""

    seconds: float
    rows_s: float
    transitions_s: float
    in_place: float  # the share of the rows PostgreSQL wrote in place


@dataclass(slots=True)
class Layout:
    """What one layout of the table measured."""

    name: str
    moves: dict[S, list[_Moved]]
    clock: list[float]

    def median(self, state: S, what: str = "seconds") -> float:
        """The median of ``what`` over the moves into ``state``."""
        return float(statistics.median(getattr(m, what) for m in self.moves[state]))

    def cell(self, state: S) -> str:
        """The move into ``state``: in all, its rows and transitions, the share in place."""
        return (
            f"{self.median(state) * 1000:5.0f} ms (rows {self.median(state, 'rows_s') * 1000:4.0f}"
            f", transitions {self.median(state, 'transitions_s') * 1000:4.0f};"
            f" {self.median(state, 'in_place'):4.0%} in place)"
        )


async def _insert(session: AsyncSession, batch: str, lights: int, **row: Any) -> None:
    await session.execute(text(_CHILDREN), {"batch": batch, "lights": lights, **row})


async def _move(db: Database, children: Sequence[_Child], step: _Step) -> _Moved:
    """Move every child one step, as the hub writes it."""
    now = utcnow()
    for child in children:
        step.change(child, now)
    began = time.perf_counter()
    async with db.write() as session:
        await session.execute(text("SELECT 1"))  # the transaction's start is not the rows'
        rows_began = time.perf_counter()
        await history.write_back(session, children, now, step.columns)
        rows_s = time.perf_counter() - rows_began
        same = history.Same(
            children[0].batch_id, "dim", step.state.value, now, step.actor, step.actor_kind
        )
        await history.record_same(session, children, same)
        transitions_s = time.perf_counter() - rows_began - rows_s
        updated, hot = (await session.execute(text(_IN_PLACE))).one()
    seconds = time.perf_counter() - began
    return _Moved(seconds, rows_s, transitions_s, hot / updated if updated else 0.0)


async def _measure(db: Database, name: str, lights: int, runs: int, prefix: str) -> Layout:
    """``runs`` fresh batches of ``lights`` children, each moved through its life."""
    layout = Layout(name, {s.state: [] for s in STEPS}, [])
    for run in range(runs):
        batch = f"{prefix}{run}"
        async with db.write() as session:
            await _insert(
                session,
                batch,
                lights,
                state=S.AWAITING_APPROVAL.value,
                age=0,
                attempts=0,
                verification=Verification.PENDING.value,
            )
        await vacuum(db, "commands")
        children = [_Child(f"{batch}-{g}", f"SL-{g}", batch) for g in range(1, lights + 1)]
        for step in STEPS:
            layout.moves[step.state].append(await _move(db, children, step))
            if step.state is S.SENT and run == runs - 1:
                for _ in range(CLOCK_RUNS):
                    began = time.perf_counter()
                    closed = await jobs.close_overdue(db)
                    layout.clock.append(time.perf_counter() - began)
                    assert not closed.events, "nothing is overdue yet"
    return layout


async def _in_place_layout(db: Database) -> None:
    """Rewrite the table so that a move can be written in place."""
    async with db.engine.begin() as conn:
        for index in MOVING_INDEXES:
            await conn.execute(text(f"DROP INDEX {index}"))
        await conn.execute(text("ALTER TABLE commands SET (fillfactor = 50)"))
    await vacuum(db, "commands", full=True)


def _print(args: argparse.Namespace, layouts: Sequence[Layout]) -> None:
    ours, raw = layouts
    print(
        f"\n1. one move of {args.lights:,} children, one transaction each (median of "
        f"{args.repeat}; the row writes, then the transitions and their alarms):"
    )
    for layout in layouts:
        print(f"   {layout.name}:")
        for step in STEPS:
            print(f"     into {step.state.value:<10} {layout.cell(step.state)}")
    print("   the approval's and the sent moves (both before the last child leaves), the four:")
    for layout in layouts:
        approval_and_sent = layout.median(S.QUEUED) + layout.median(S.SENT)
        life = sum(layout.median(s.state) for s in STEPS)
        print(f"     {layout.name}: {approval_and_sent:.2f} s, {life:.2f} s")
    print(f"2. one pass of the commands' clock with {args.lights:,} children open:")
    for layout in layouts:
        print(
            f"     {layout.name}: {statistics.median(layout.clock) * 1000:.0f} ms "
            f"(median of {CLOCK_RUNS}; the gateway runs it every second)"
        )
    moves = sum(ours.median(s.state) for s in STEPS) / sum(raw.median(s.state) for s in STEPS)
    clock = statistics.median(raw.clock) / statistics.median(ours.clock)
    print(
        f"     the moves cost {moves:.1f}x the in-place layout's; its clock costs {clock:.1f}x ours"
    )


async def main(args: argparse.Namespace) -> int:
    """Run the benchmark; returns the exit status."""
    if not await postgres_available():
        print("PostgreSQL is not reachable: nothing measured")
        return 1
    async with scratch_postgres() as (_, db):
        began = time.perf_counter()
        async with db.write() as session:
            for past in range(args.history):
                await _insert(
                    session,
                    f"past{past}",
                    args.lights,
                    state=S.SUCCEEDED.value,
                    verification=Verification.VERIFIED.value,
                    age=24 + past,
                    attempts=1,
                )
        await vacuum(db, "commands")
        print(
            f"{args.history} past city-wide commands of {args.lights:,} children: "
            f"{args.history * args.lights:,} commands, loaded in "
            f"{time.perf_counter() - began:.0f} s"
        )
        ours = await _measure(db, "the table as it is", args.lights, args.repeat, "now")
        await _in_place_layout(db)
        raw = await _measure(db, "raw: written in place", args.lights, args.repeat, "hot")
    _print(args, (ours, raw))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lights", type=int, default=34_000)
    parser.add_argument("--history", type=int, default=10, help="past city-wide commands")
    parser.add_argument("--repeat", type=int, default=3, help="fresh batches per layout")
    arguments = parser.parse_args()
    if arguments.repeat < 1 or arguments.lights < 1 or arguments.history < 0:
        parser.error("--repeat and --lights must be at least 1, --history at least 0")
    sys.exit(asyncio.run(main(arguments)))
