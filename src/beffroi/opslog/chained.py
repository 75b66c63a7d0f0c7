"""The log's hash chain: appending a record to it and verifying it.

A chain of its own (:mod:`beffroi.core.chain`, as the audit log's and the video
register's): each record's hash covers its content and the previous hash; a one-row head,
locked by every append, serialises the chain and witnesses its end. Nothing is ever
purged, so verification walks from the genesis.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.chain import GENESIS_HASH, ChainWalk, link_hash, walk_table
from beffroi.db import Database
from beffroi.db.upsert import upsert
from beffroi.opslog.models import LogHead, LogRecord

HEAD_ID = 1


def record_hash(prev_hash: str, row: LogRecord) -> str:
    """The hash of a record over its content and the previous hash."""
    return link_hash(
        prev_hash,
        {
            "seq": row.seq,
            "kind": row.kind,
            "amends": row.amends,
            "occurred_at": row.occurred_at.isoformat(timespec="microseconds"),
            "recorded_at": row.recorded_at.isoformat(timespec="microseconds"),
            "author": row.author,
            "author_user_id": row.author_user_id,
            "desk": row.desk,
            "category": row.category,
            "commune_code": row.commune_code,
            "text": row.text,
            "place": row.place,
            "links": row.links,
            "follows": row.follows,
        },
    )


async def _locked_head(session: AsyncSession) -> LogHead:
    # Made on first use, as the video register's head; locking it serialises appends.
    await upsert(session, LogHead, [{"id": HEAD_ID, "seq": 0, "hash": GENESIS_HASH}], keys=["id"])
    query = select(LogHead).where(LogHead.id == HEAD_ID).with_for_update()
    return (await session.execute(query)).scalar_one()


async def append(session: AsyncSession, row: LogRecord) -> LogRecord:
    """Give ``row`` its place in the chain and add it, in the caller's transaction."""
    head = await _locked_head(session)
    row.seq = head.seq + 1
    row.prev_hash = head.hash
    row.hash = record_hash(head.hash, row)
    session.add(row)
    head.seq, head.hash = row.seq, row.hash
    await session.flush()
    return row


async def verify(db: Database) -> ChainWalk:
    """Walk the whole chain to its head; every break is reported."""
    async with db.read() as session:
        head = await session.get(LogHead, HEAD_ID)
        walk = await walk_table(
            session, ChainWalk(), LogRecord.seq, lambda r: record_hash(r.prev_hash, r)
        )
    if head is not None:
        walk.end(head.seq, head.hash)
    elif walk.checked:
        walk.end(None, None)
    return walk
