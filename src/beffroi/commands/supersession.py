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

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.commands.history import Move
from beffroi.commands.lifecycle import DELIVERED, Verification
from beffroi.commands.models import Command
from beffroi.commands.verification import shares_state
from beffroi.db.lists import among, parts

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
    c = Command.__table__.c
    moves = []
    for names, newest in by_names.items():
        for part in parts(session, sorted(newest)):
            result = await session.execute(
                update(Command)
                .where(
                    among(session, Command.asset_id, part),
                    Command.name.in_(sorted(names)),
                    # Succeeded: only a success sets it. Not ``state =``: a prepared
                    # statement's generic plan answers that through the dispatcher's
                    # (state, next_attempt_at) index, every succeeded command for each
                    # asset (seconds for a batch of 5,000 replies).
                    Command.verify_by.is_not(None),
                    Command.verification.in_(AWAITING),
                )
                .values(verification=Verification.SUPERSEDED, updated_at=now)
                .returning(c.id, c.asset_id, c.batch_id, c.name, c.state)
            )
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
