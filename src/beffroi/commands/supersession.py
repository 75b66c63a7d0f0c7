"""Which verification a newer command supersedes, and when an older one waits.

A command that succeeds supersedes the verification of the commands that succeeded before
it on the same asset and set the same state (a dim and a switch both set a light's
level): the state it set is the one the device should now report. Only a success does,
when its reply is stored (in the batch's transaction, among the rows the tracker reads to
verify commands: no statement of its own). A newer command that is cancelled, expires,
is rejected or fails never set the state, and the older one is still judged against
what the device reports. While a newer command that may already have set it is on its
way (sent, no final reply yet), a report that disagrees with an older one flags nothing:
the newer one settles it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from beffroi.commands.history import Move
from beffroi.commands.lifecycle import AWAITING, DELIVERED, CommandState, Verification
from beffroi.commands.verification import shares_state

# Whoever moves a command by replying or reporting: the device.
DEVICE = "device"


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


def earlier(rows: Sequence[R], succeeded: Mapping[str, Sequence[R]]) -> list[tuple[R, str]]:
    """Of ``rows`` (the commands of the batch's assets awaiting verification, as its
    replies left them), those that succeeded before this batch and are superseded by one
    of its successes (``succeeded``, by asset): each is marked superseded and paired with
    the id of the command that superseded it."""
    if not succeeded:
        return []
    mine = {r.id for newer in succeeded.values() for r in newer}
    out = []
    for row in rows:
        newer = succeeded.get(row.asset_id)
        if not newer or row.id in mine or row.state != CommandState.SUCCEEDED:
            continue
        if row.verification not in AWAITING:
            continue
        by = [n for n in newer if row.name in shares_state(n.asset_type, n.name)]
        if by:
            row.verification = Verification.SUPERSEDED.value
            out.append((row, by[-1].id))
    return out


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
