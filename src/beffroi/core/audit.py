"""The audit log, and writing to it: every state change, in its own transaction.

Append-only and hash-chained: each entry carries a gap-free sequence and the hash of the
previous one; a one-row head, locked by each append, serialises the chain and witnesses
its end. Reading and verifying the log is the ``audit`` area's; writing is here, so that
every use case (:mod:`beffroi.core.usecase`) can record without depending on an area.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.core.chain import link_hash
from beffroi.core.principal import Principal
from beffroi.core.time import utcnow
from beffroi.db import Base, BigId, Database, JSONType, UTCDateTime


class AuditEntry(Base):
    """Who did what to which target, when, why, and how it ended.

    ``seq`` is gap-free and ``hash`` covers the entry and the previous hash, so an edited,
    inserted or deleted entry breaks the chain.
    """

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(100), index=True)
    target_type: Mapped[str | None] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(200), index=True)
    commune_code: Mapped[str | None] = mapped_column(String(64), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's head: one row, locked by every append so appends are serial, and the
    witness that no entry was cut from the end."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, default=0)
    hash: Mapped[str] = mapped_column(String(64))


HEAD_ID = 1


class Outcome:
    """How an audited action ended."""

    SUCCESS = "success"
    DENIED = "denied"
    FAILURE = "failure"


OUTCOMES = (Outcome.SUCCESS, Outcome.DENIED, Outcome.FAILURE)


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    """The SHA-256 of the previous hash and a canonical JSON form of the entry."""
    payload = {
        "seq": entry.seq,
        "ts": entry.ts.isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "actor_kind": entry.actor_kind,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "commune_code": entry.commune_code,
        "reason": entry.reason,
        "outcome": entry.outcome,
        "details": entry.details,
    }
    return link_hash(prev_hash, payload)


async def record(
    session: AsyncSession,
    principal: Principal,
    action: str,
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    commune: str | None = None,
    reason: str | None = None,
    outcome: str = Outcome.SUCCESS,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry inside the caller's transaction, so it commits with the change."""
    # Locking the head serialises appends: the chain has one next link at a time.
    head = (
        await session.execute(select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update())
    ).scalar_one()
    entry = AuditEntry(
        seq=head.seq + 1,
        ts=utcnow(),
        actor=principal.name,
        actor_kind=principal.kind.value,
        action=action,
        target_type=target_type,
        target_id=target_id,
        commune_code=commune,
        reason=reason,
        outcome=outcome,
        details=json.loads(json.dumps(details or {}, default=str)),
        prev_hash=head.hash,
    )
    entry.hash = entry_hash(head.hash, entry)
    session.add(entry)
    head.seq = entry.seq
    head.hash = entry.hash
    await session.flush()
    return entry


async def record_alone(db: Database, principal: Principal, action: str, **kwargs: Any) -> None:
    """Append one entry in a transaction of its own (refusals, failed logins)."""
    async with db.write() as session:
        await record(session, principal, action, **kwargs)
