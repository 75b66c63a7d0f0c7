"""The video register: writing it, verifying it, purging it after three years.

Its own hash chain (:mod:`beffroi.core.chain`, as the audit log's): each entry covers its
content and the previous hash; a one-row head, locked by every append, serialises the
chain and witnesses its end. The purge deletes the oldest entries and moves the head's
checkpoint (the last purged sequence and hash), where verification starts again: the
chain stays verifiable, and the audit log, which never deletes, names register entries by
sequence only (docs/video.md, "Keeping the register").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.chain import GENESIS_HASH, ChainWalk, link_hash, walk_table
from beffroi.core.principal import Principal
from beffroi.core.time import utcnow
from beffroi.db import Database
from beffroi.db.upsert import upsert
from beffroi.video.lifecycle import EntryKind, EntryOutcome
from beffroi.video.models import RegisterEntry, RegisterHead

HEAD_ID = 1


@dataclass(frozen=True, slots=True)
class Draft:
    """A register entry to append: what happened to which camera, and why."""

    kind: EntryKind
    camera_id: str | None
    commune: str | None
    reason: str | None = None
    outcome: EntryOutcome = EntryOutcome.DONE
    session_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # Who acted, when it is not the caller (a session ended by the clock is its agent's).
    agent: str | None = None


def entry_hash(prev_hash: str, entry: RegisterEntry) -> str:
    """The hash of an entry over its content and the previous hash."""
    return link_hash(
        prev_hash,
        {
            "seq": entry.seq,
            "ts": entry.ts.isoformat(timespec="microseconds"),
            "kind": entry.kind,
            "camera_id": entry.camera_id,
            "commune_code": entry.commune_code,
            "agent": entry.agent,
            "reason": entry.reason,
            "outcome": entry.outcome,
            "session_id": entry.session_id,
            "details": entry.details,
        },
    )


async def _locked_head(session: AsyncSession) -> RegisterHead:
    # Made on first use (no seeded row to keep in step with resets); locking it serialises
    # appends, as the audit head does.
    fresh = {"id": HEAD_ID, "seq": 0, "hash": GENESIS_HASH, "purged_seq": 0}
    await upsert(session, RegisterHead, [{**fresh, "purged_hash": GENESIS_HASH}], keys=["id"])
    query = select(RegisterHead).where(RegisterHead.id == HEAD_ID).with_for_update()
    return (await session.execute(query)).scalar_one()


async def append(
    session: AsyncSession, principal: Principal, drafts: Sequence[Draft]
) -> list[RegisterEntry]:
    """Append entries in the caller's transaction, so they commit with the act."""
    if not drafts:
        return []
    head = await _locked_head(session)
    now = utcnow()
    out = []
    for draft in drafts:
        entry = RegisterEntry(
            seq=head.seq + 1,
            ts=now,
            kind=draft.kind.value,
            camera_id=draft.camera_id,
            commune_code=draft.commune,
            agent=draft.agent or principal.name,
            reason=draft.reason,
            outcome=draft.outcome.value,
            session_id=draft.session_id,
            details=json.loads(json.dumps(draft.details, default=str)),
            prev_hash=head.hash,
        )
        entry.hash = entry_hash(head.hash, entry)
        session.add(entry)
        head.seq, head.hash = entry.seq, entry.hash
        out.append(entry)
    await session.flush()
    return out


async def append_alone(db: Database, principal: Principal, drafts: Sequence[Draft]) -> None:
    """Append entries in a transaction of their own (a refused act, whose own rolled back)."""
    async with db.write() as session:
        await append(session, principal, drafts)


async def verify(db: Database, chunk: int = 5000) -> ChainWalk:
    """Walk the register from its checkpoint to its head; every break is reported."""
    async with db.read() as session:
        head = await session.get(RegisterHead, HEAD_ID)
        walk = ChainWalk()
        if head is not None:
            walk = ChainWalk(expected_seq=head.purged_seq + 1, expected_prev=head.purged_hash)
        await walk_table(
            session, walk, RegisterEntry.seq, lambda e: entry_hash(e.prev_hash, e), chunk
        )
        # Rows below the checkpoint are entries put back after the purge, or never purged.
        stray = await session.scalar(
            select(func.count())
            .select_from(RegisterEntry)
            .where(RegisterEntry.seq <= (head.purged_seq if head else 0))
        )
    if stray:
        walk.problems.append(f"{stray} entries lie before the purge checkpoint")
    if head is None:
        if walk.checked:
            walk.end(None, None)
    else:
        walk.end(head.seq, head.hash)
    return walk


@dataclass(frozen=True, slots=True)
class Purged:
    """What a purge removed: how many entries, up to which sequence and hash."""

    count: int
    through_seq: int
    checkpoint_hash: str


async def purge_before(session: AsyncSession, before: datetime) -> Purged | None:
    """Delete the entries older than ``before`` (oldest first, without gaps) and move the
    checkpoint to the last one deleted; ``None`` when nothing is old enough."""
    head = await _locked_head(session)
    last = (
        await session.execute(
            select(RegisterEntry.seq, RegisterEntry.hash)
            .where(RegisterEntry.ts < before)
            .order_by(RegisterEntry.seq.desc())
            .limit(1)
        )
    ).first()
    if last is None:
        return None
    result = await session.execute(delete(RegisterEntry).where(RegisterEntry.seq <= last.seq))
    head.purged_seq, head.purged_hash = last.seq, last.hash
    await session.flush()
    return Purged(int(getattr(result, "rowcount", 0) or 0), last.seq, last.hash)
