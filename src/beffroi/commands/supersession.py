"""Which verification a newer command supersedes, and when an older one waits.

A command that succeeds supersedes the verification of the commands that succeeded before
it on the same asset and set the same state (a dim and a switch both set a light's
level): the state it set is the one the device should now report. Only a success does,
when its reply is stored: a newer command that is cancelled, expires, is rejected or
fails never set the state, and the older one is still judged against what the device
reports. While a newer command that may already have set it is on its way (sent, no
final reply yet), a report that disagrees with an older one flags nothing: the newer one
settles it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import Executable, Text, bindparam, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.commands.history import Move
from beffroi.commands.lifecycle import DELIVERED, Verification
from beffroi.commands.models import Command
from beffroi.commands.verification import shares_state
from beffroi.db.lists import is_postgres, parts

# Whoever moves a command by replying or reporting: the device.
DEVICE = "device"
AWAITING = (Verification.PENDING.value, Verification.MISMATCH.value)


class Row(Protocol):
    """What supersession reads of a command (the tracker's plain rows)."""

    id: str
    asset_id: str
    batch_id: str | None
    asset_type: str
    name: str
    state: str
    verification: str


R = TypeVar("R", bound=Row)


def in_batch(row: R, earlier: dict[str, list[R]], now: datetime) -> list[Move]:
    """Supersede, by ``row``'s success, the commands that succeeded earlier in the same
    batch (``earlier``, by asset), and add ``row`` to them."""
    mine = earlier.setdefault(row.asset_id, [])
    moves = []
    if mine:
        names = shares_state(row.asset_type, row.name)
        for older in mine:
            if older.name in names and older.verification in AWAITING:
                older.verification = Verification.SUPERSEDED.value
                detail = {"superseded_by": row.id}
                moves.append(Move.of(older, now, row.asset_id, DEVICE, detail, transition=False))
    mine.append(row)
    return moves


async def stored(session: AsyncSession, succeeded: Sequence[Row], now: datetime) -> list[Move]:
    """Commands that succeeded before this batch and still await verification,
    superseded by this batch's successes (``succeeded``, not yet written back) on the same
    assets and state: one statement per set of command names, whatever the number of
    assets."""
    by_names: dict[frozenset[str], dict[str, str]] = {}
    for row in succeeded:
        names = shares_state(row.asset_type, row.name)
        if names:
            by_names.setdefault(names, {})[row.asset_id] = row.id
    moves = []
    for names, newest in by_names.items():
        for part in parts(session, sorted(newest)):
            result = await session.execute(*_superseding(session, part, sorted(names), now))
            moves += [
                Move(
                    r.id,
                    r.asset_id,
                    r.batch_id,
                    r.name,
                    r.state,
                    Verification.SUPERSEDED.value,
                    now,
                    r.asset_id,
                    DEVICE,
                    {"superseded_by": newest[r.asset_id]},
                    transition=False,
                )
                for r in result
            ]
    return moves


# Each asset's commands looked up through its index, one asset at a time (LATERAL, kept
# apart from the rest of the plan by OFFSET 0). As a plain join, the planner, trusting
# statistics taken before a city-wide command (no command succeeded, none pending yet),
# scanned every such command once per asset: seconds for 5,000 replies, quadratic.
# Succeeded is told by verify_by (only a success sets it), not by state, for which a
# generic plan chose the dispatcher's (state, next_attempt_at) index likewise.
_SUPERSEDE_PG = text(
    """
    UPDATE commands AS c SET verification = :superseded, updated_at = :now
    FROM (
        SELECT older.id FROM unnest(CAST(:assets AS text[])) AS a(asset_id)
        CROSS JOIN LATERAL (
            SELECT commands.id FROM commands
            WHERE commands.asset_id = a.asset_id
              AND commands.name = ANY(CAST(:names AS text[]))
              AND commands.verify_by IS NOT NULL
              AND commands.verification = ANY(CAST(:awaiting AS text[]))
            OFFSET 0
        ) AS older
    ) AS s
    WHERE c.id = s.id
    RETURNING c.id, c.asset_id, c.batch_id, c.name, c.state
    """
).bindparams(
    bindparam("assets", type_=ARRAY(Text)),
    bindparam("names", type_=ARRAY(Text)),
    bindparam("awaiting", type_=ARRAY(Text)),
)


def _superseding(
    session: AsyncSession, assets: Sequence[str], names: list[str], now: datetime
) -> tuple[Executable, dict[str, object]]:
    """The statement superseding the awaiting successes of ``assets``, and its values."""
    if is_postgres(session):
        values: dict[str, object] = {
            "superseded": Verification.SUPERSEDED.value,
            "now": now,
            "assets": list(assets),
            "names": names,
            "awaiting": list(AWAITING),
        }
        return _SUPERSEDE_PG, values
    c = Command.__table__.c
    statement = (
        update(Command)
        .where(
            Command.asset_id.in_(assets),
            Command.name.in_(names),
            Command.verify_by.is_not(None),
            Command.verification.in_(AWAITING),
        )
        .values(verification=Verification.SUPERSEDED, updated_at=now)
        .returning(c.id, c.asset_id, c.batch_id, c.name, c.state)
    )
    return statement, {}


def on_the_way(rows: Sequence[Row]) -> dict[str, list[Row]]:
    """By asset, the commands sent and not finished: the device may have set their state
    already, and their reply is still to come."""
    out: dict[str, list[Row]] = {}
    for row in rows:
        if row.state in DELIVERED:
            out.setdefault(row.asset_id, []).append(row)
    return out


def overtaken(row: Row, on_the_way: Mapping[str, Sequence[Row]]) -> bool:
    """Whether another command on its way to ``row``'s asset sets the state it set."""
    others = on_the_way.get(row.asset_id)
    if not others:
        return False
    names = shares_state(row.asset_type, row.name)
    return any(o.id != row.id and o.name in names for o in others)
