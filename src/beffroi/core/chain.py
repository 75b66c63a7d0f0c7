"""Hash chains: how a tamper-evident log links its entries and how a walk checks them.

Written once for every chained log (the audit log, :mod:`beffroi.core.audit`; the video
register, ``beffroi.video.register``): each entry carries a gap-free sequence, the hash of
the previous entry and its own hash over a canonical JSON form of its content and that
previous hash. An edited entry no longer matches its hash; an inserted or deleted one
breaks the sequence or the links; entries cut from the end disagree with the head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

GENESIS_HASH = "0" * 64


def link_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    """The SHA-256 of the previous hash and a canonical JSON form of ``payload``."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()


@dataclass(slots=True)
class ChainWalk:
    """A walk along a chain, oldest entry first, collecting every break.

    ``expected_seq`` and ``expected_prev`` start at the genesis, or at a checkpoint when
    the oldest entries were purged (the sequence and hash of the last purged entry).
    """

    expected_seq: int = 1
    expected_prev: str = GENESIS_HASH
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no break was found."""
        return not self.problems

    def step(self, seq: int, prev_hash: str, stored_hash: str, computed_hash: str) -> None:
        """Check one entry: its place in the sequence, its link and its content."""
        self.checked += 1
        if seq != self.expected_seq:
            self.problems.append(
                f"entry {seq}: expected sequence {self.expected_seq} "
                f"(entries {self.expected_seq}..{seq - 1} are missing)"
            )
        if prev_hash != self.expected_prev:
            self.problems.append(f"entry {seq}: previous-hash link is broken")
        if computed_hash != stored_hash:
            self.problems.append(f"entry {seq}: content does not match its hash")
        self.expected_prev = stored_hash
        self.expected_seq = seq + 1

    def end(self, head_seq: int | None, head_hash: str | None) -> None:
        """Check the head (``None``: missing) against where the walk ended."""
        if head_seq is None or head_hash is None:
            self.problems.append("the chain head is missing")
        elif head_seq != self.expected_seq - 1 or head_hash != self.expected_prev:
            self.problems.append(
                f"the chain head says {head_seq} entries but {self.expected_seq - 1} were "
                "found: entries were removed from the end"
            )


async def walk_table(
    session: AsyncSession,
    walk: ChainWalk,
    seq: InstrumentedAttribute[int],
    hash_of: Callable[[Any], str],
    chunk: int = 5000,
) -> ChainWalk:
    """Step ``walk`` along the rows of a chained table (the entity of ``seq``), oldest
    first from ``walk.expected_seq``, in chunks (a chain may be millions of rows);
    ``hash_of(row)`` recomputes a row's hash from its content and ``prev_hash``. The
    caller checks the head with :meth:`ChainWalk.end`."""
    entity = seq.class_
    last = walk.expected_seq - 1
    while True:
        query: Select[Any] = select(entity).where(seq > last).order_by(seq).limit(chunk)
        rows = (await session.execute(query)).scalars().all()
        if not rows:
            return walk
        for row in rows:
            walk.step(row.seq, row.prev_hash, row.hash, hash_of(row))
        last = rows[-1].seq
        # Walked rows are not kept: the session would hold the whole chain.
        session.expunge_all()
