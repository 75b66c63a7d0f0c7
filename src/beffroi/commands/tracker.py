"""Following commands from the ingest path: device replies and the state they report.

The gateway's ingest transaction calls :meth:`CommandTracker.observe` with each batch's
replies and newest values, so a reply moves its command in the same commit that stores
it, and a redelivered batch finds nothing left to move. A duplicate or late reply (to a
command already final) changes nothing; a reply naming a command the hub never sent is
counted as rejected input. Replies and verification are two follow-up stages
(:mod:`beffroi.telemetry.followup`): whatever fails in them, the batch is stored.

A command that succeeds supersedes the verification of those that succeeded before it
(:mod:`.supersession`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

import orjson
import structlog
from sqlalchemy import Text, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi import metrics
from beffroi.commands import history, supersession
from beffroi.commands.history import Move
from beffroi.commands.lifecycle import AWAITING, FINAL, CommandState, Verification, can_move
from beffroi.commands.models import AWAITING_ROWS, Command
from beffroi.commands.supersession import DEVICE
from beffroi.commands.verification import expected_state, judge
from beffroi.core.events import DomainEvent
from beffroi.db.copy import driver_connection
from beffroi.db.lists import among, is_postgres, parts
from beffroi.devices import topics
from beffroi.telemetry.decode import Reason, Rejection, Reply
from beffroi.telemetry.followup import Part, Stage, abandoned, attempt, describe, run_stage
from beffroi.telemetry.store import Newest, Seen

log = structlog.get_logger(__name__)

# Distinct (type, command, parameters) whose expected state is remembered.
EXPECTED_CACHE = 1024
# The columns the tracker may change, written back together once per batch.
CHANGES = (
    "state",
    "verification",
    "replied_at",
    "finished_at",
    "verify_by",
    "verified_at",
    "result",
)


@dataclass(slots=True)
class Followed:
    """The part of a command row the tracker reads and moves: plain values, not an ORM
    object (a city-wide dim brings 34,000 replies, then 34,000 reports, in a few seconds)."""

    id: str
    asset_id: str
    batch_id: str | None
    asset_type: str
    name: str
    state: str
    verification: str
    sent_at: datetime | None
    sent_via: str | None
    replied_at: datetime | None
    finished_at: datetime | None
    verify_by: datetime | None
    verified_at: datetime | None
    result: dict[str, Any] | None
    # The command's parameters as stored (JSON text): what its verification expects is
    # worked out once per distinct text, and a batch's children share one.
    params: str


_c = Command.__table__.c
_READ = (
    *(getattr(_c, f.name) for f in fields(Followed) if f.name != "params"),
    cast(_c.params, Text).label("params"),
)


# The same reads on PostgreSQL, as the driver takes them (only these names are put in the
# text; the keys are bound as one array).
_COLUMNS = ", ".join(f.name for f in fields(Followed) if f.name != "params") + ", params::text"
_BY_ID_PG = (
    f"SELECT {_COLUMNS} FROM commands WHERE id IN (SELECT unnest($1::text[])) "  # noqa: S608
    "ORDER BY id FOR UPDATE"
)
_AWAITING_PG = (
    f"SELECT {_COLUMNS} FROM commands WHERE asset_id IN (SELECT unnest($1::text[])) "  # noqa: S608
    f"AND {AWAITING_ROWS} ORDER BY id FOR UPDATE"
)
_STATES = {s.value: s for s in CommandState}


@dataclass(slots=True)
class Observed:
    """What following a batch produced: hub events and rejected replies."""

    events: list[DomainEvent] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


class CommandTracker:
    """Moves commands on replies and verifies them against reported state.

    ``watching`` holds the assets with a command whose effect is not yet verified, so
    the readings of the other 99 % of the fleet cost one set look-up. It is filled by
    this process's dispatcher and refreshed from the database (other gateways' commands).
    """

    def __init__(self, *, root: str, verify_window: timedelta) -> None:
        self.root = root
        self.verify_window = verify_window
        self.watching: set[str] = set()
        self._expected: dict[tuple[str, str, str], dict[str, Any]] = {}

    def watch(self, asset_ids: Sequence[str]) -> None:
        """Readings of these assets may verify a command."""
        self.watching.update(asset_ids)

    async def refresh(self, session: AsyncSession) -> None:
        """Re-read which assets have a command awaiting verification."""
        rows = await session.execute(
            select(Command.asset_id)
            .where(Command.verification.in_(AWAITING), Command.sent_at.is_not(None))
            .distinct()
        )
        self.watching = set(rows.scalars())

    async def observe(self, session: AsyncSession, seen: Seen, now: datetime) -> Observed:
        """Apply a batch's replies, then verify against its newest values.

        Both are follow-up stages: tried together first (one read of each command, one
        write-back), and only when that fails, apart and asset by asset."""
        replies = seen.replies
        # Nothing watched: the batch's newest values are not even worked out.
        watched = self.watching and any(asset in self.watching for asset, _ in seen.newest)
        if not replies and not watched:
            return Observed()
        together = await attempt(session, lambda: self._follow(session, seen, now))
        if not isinstance(together, Exception):
            return together
        log.warning(
            "following commands failed for a batch: stage by stage", error=describe(together)
        )
        out = Observed()
        if replies:

            async def replies_of(part: Part) -> Observed:
                mine = [r for r in replies if part is None or r.sender in part]
                return await self._follow(session, Seen(mine, {}, (), ()), now)

            for done in await run_stage(
                session, Stage.REPLIES, replies_of, lambda: (r.sender for r in replies)
            ):
                out.events += done.events
                out.rejections += done.rejections
        readings = Seen((), seen.newest, (), ())
        if self._watched(readings, None):

            async def verify(part: Part) -> Observed:
                return await self._follow(session, readings, now, part)

            for done in await run_stage(
                session, Stage.VERIFICATION, verify, lambda: self._watched(readings, None)
            ):
                out.events += done.events
        return out

    def _watched(self, seen: Seen, part: Part) -> set[str]:
        """The assets of ``seen``'s readings (among ``part``) that may verify a command."""
        return {
            asset
            for asset, _ in seen.newest
            if asset in self.watching and (part is None or asset in part)
        }

    async def _follow(
        self, session: AsyncSession, seen: Seen, now: datetime, part: Part = None
    ) -> Observed:
        """Replies, then supersession and verification (of the assets among ``part``),
        one write-back."""
        out = Observed()
        changed: dict[str, Followed] = {}
        moves: list[Move] = []
        # By asset, the commands that set their state in this batch, in reply order.
        succeeded: dict[str, list[Followed]] = {}
        if seen.replies:
            await self._replies(session, seen.replies, now, changed, moves, out, succeeded)
        # After the replies: a command that succeeded in this batch is verified by it.
        watched = self._watched(seen, part)
        if watched or succeeded:
            await self._verify(session, watched, succeeded, seen.newest, now, changed, moves)
        if changed:
            await history.write_back(session, list(changed.values()), now, CHANGES)
            out.events += await history.record(session, moves)
        return out

    async def _read(
        self, session: AsyncSession, keys: Sequence[str], *, awaiting: bool = False
    ) -> list[Followed]:
        """The commands whose ids are ``keys`` or, when ``awaiting``, those sent to the
        assets ``keys`` and awaiting their verification; locked in id order (as
        cancellations and the expiry job lock them). On PostgreSQL the driver's records go
        straight into :class:`Followed` (its timestamps are already aware): a batch reads
        34,000 rows."""
        out: list[Followed] = []
        column = _c.asset_id if awaiting else _c.id
        more = (_c.verification.in_(AWAITING), _c.sent_at.is_not(None)) if awaiting else ()
        for part in parts(session, keys):
            if is_postgres(session):
                conn = await driver_connection(session)
                sql = _AWAITING_PG if awaiting else _BY_ID_PG
                out += [Followed(*record) for record in await conn.fetch(sql, list(part))]
                continue
            result = await session.execute(
                select(*_READ)
                .where(among(session, column, part), *more)
                .order_by(_c.id)
                .with_for_update()
            )
            out += [Followed(*row) for row in result]
        return out

    async def _replies(
        self,
        session: AsyncSession,
        replies: Sequence[Reply],
        now: datetime,
        changed: dict[str, Followed],
        moves: list[Move],
        out: Observed,
        succeeded: dict[str, list[Followed]],
    ) -> None:
        ids = sorted({r.command_id for r in replies})
        rows = {f.id: f for f in await self._read(session, ids)}
        for reply in replies:
            row = rows.get(reply.command_id)
            if row is None or row.sent_at is None or not _answers(reply, row):
                out.rejections.append(_unknown(reply, self.root))
                continue
            target = _STATES.get(reply.status) or CommandState(reply.status)
            current = _STATES[row.state]
            if current in FINAL or not can_move(current, target) or current is target:
                metrics.COMMAND_REPLIES_IGNORED.inc()
                continue
            row.state = target.value
            row.replied_at = row.replied_at or now
            if target in FINAL:
                row.finished_at = now
                row.result = reply.detail or None
                if target is CommandState.SUCCEEDED and row.verification in AWAITING:
                    row.verify_by = now + self.verify_window
                    self.watching.add(row.asset_id)
                elif row.verification == Verification.PENDING:
                    row.verification = Verification.NOT_APPLICABLE.value
            changed[row.id] = row
            moves.append(_move(row, now, reply.detail or None))
            if target is CommandState.SUCCEEDED:
                moves += supersession.in_batch(row, succeeded, now)

    async def _verify(
        self,
        session: AsyncSession,
        watched: Set[str],
        succeeded: Mapping[str, Sequence[Followed]],
        newest: Newest,
        now: datetime,
        changed: dict[str, Followed],
        moves: list[Move],
    ) -> None:
        """The commands awaiting verification on the assets with readings (``watched``)
        or with a success in this batch, in one read: those the batch's successes
        supersede, then those the readings verify."""
        found = await self._read(session, sorted(watched | succeeded.keys()), awaiting=True)
        # As this batch's replies left them.
        rows = [changed.get(f.id, f) for f in found]
        for row, newer in supersession.earlier(rows, succeeded):
            changed[row.id] = row
            moves.append(_move(row, now, {"superseded_by": newer}, transition=False))
        # Finished without effect, or superseded: not verified.
        candidates = [r for r in rows if r.asset_id in watched and r.verification in AWAITING]
        self.watching -= watched - {c.asset_id for c in candidates}
        on_the_way = supersession.on_the_way(candidates)
        for row in candidates:
            expected = self._expected_of(row)
            reported = {
                key: newest[(row.asset_id, key)][1:]
                for key in expected
                if (row.asset_id, key) in newest
            }
            verdict = judge(expected, reported)
            if verdict is None:
                continue
            if verdict:
                outcome = Verification.VERIFIED
                row.verified_at = now
            elif row.state == CommandState.SUCCEEDED and not supersession.overtaken(
                row, on_the_way
            ):
                # The device said it is done and reports otherwise: flag it. Before its
                # final reply the state may still be on its way (a ramp), so wait; and a
                # newer command on its way may have set the state since: wait for it too.
                outcome = Verification.MISMATCH
            else:
                continue
            if row.verification == outcome.value:
                continue
            row.verification = outcome.value
            changed[row.id] = row
            detail: dict[str, Any] = {"expected": _plain(expected), "reported": reported}
            moves.append(_move(row, now, detail, transition=False))

    def _expected_of(self, row: Followed) -> dict[str, Any]:
        """What would prove the command; empty (it cannot be verified) when its stored
        parameters cannot say (a value the catalogue's check should have refused): that
        is logged and counted once per distinct parameters, and the command is left to
        its verification window."""
        key = (row.asset_type, row.name, row.params)
        expected = self._expected.get(key)
        if expected is None:
            if len(self._expected) >= EXPECTED_CACHE:
                self._expected.clear()
            try:
                expected = expected_state(row.asset_type, row.name, orjson.loads(row.params))
            except Exception as exc:  # bad stored data must not stop the batch's follow-up
                abandoned(Stage.VERIFICATION, [row.asset_id], exc, command_id=row.id)
                expected = {}
            self._expected[key] = expected
        return expected


def _plain(expected: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, float) else v) for k, v in expected.items()}


def _move(
    row: Followed, now: datetime, detail: dict[str, Any] | None, *, transition: bool = True
) -> Move:
    """A move the device caused (its reply, or the state it reported)."""
    return Move.of(row, now, row.asset_id, DEVICE, detail, transition=transition)


def _answers(reply: Reply, row: Followed) -> bool:
    """Whether ``reply`` may answer for ``row``: its device's own reply, or one from the
    field gateway the command was sent through."""
    if reply.asset_id is None:
        return row.sent_via is not None and row.sent_via == reply.via
    return row.asset_id == reply.asset_id


def _unknown(reply: Reply, root: str) -> Rejection:
    if reply.asset_id is None:
        # A bulk reply's entry: its message id is not kept, the gateway's reply topic is.
        where = topics.Topic(topics.Channel.REPLY, reply.sender, reply.sender, "+", bulk=True)
        to = f"through {reply.sender!r}"
    else:
        where = topics.Topic(topics.Channel.REPLY, reply.asset_id, None, reply.command_id)
        to = f"to {reply.asset_id!r}"
    return Rejection(
        Reason.UNKNOWN_COMMAND,
        f"no command {reply.command_id!r} was sent {to}",
        topics.build(where, root),
        b"",
        reply.sender,
    )
