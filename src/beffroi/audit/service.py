"""Writing, reading and verifying the hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.accounts.principal import Permission, Principal
from beffroi.audit.models import AuditEntry, AuditHead
from beffroi.communes.lookup import filter_codes
from beffroi.context import Context
from beffroi.db import Database
from beffroi.errors import BeffroiError
from beffroi.timeutil import utcnow

T = TypeVar("T")
GENESIS_HASH = "0" * 64
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
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()


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


@dataclass(slots=True)
class VerifyReport:
    """The result of walking the chain."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the chain is intact."""
        return not self.problems


async def refused(ctx: Context, action: str, call: Callable[[], Awaitable[T]], **what: Any) -> T:
    """Run ``call``; a refusal (bad input, no right, wrong state) is audited as
    ``<action>.refused`` in a transaction of its own, then raised."""
    try:
        return await call()
    except BeffroiError as exc:
        await record_alone(
            ctx.db,
            ctx.principal,
            f"{action}.refused",
            outcome=Outcome.DENIED,
            details={"error": exc.detail[:500], **what},
            **{
                k: None if v is None else str(v)
                for k, v in what.items()
                if k in ("target_type", "target_id")
            },
        )
        raise


async def verify(db: Database, chunk: int = 5000) -> VerifyReport:
    """Walk the whole chain and report every break: edited, inserted or deleted entries."""
    report = VerifyReport()
    expected_prev = GENESIS_HASH
    expected_seq = 1
    async with db.read() as session:
        last_seq = 0
        while True:
            rows = (
                (
                    await session.execute(
                        select(AuditEntry)
                        .where(AuditEntry.seq > last_seq)
                        .order_by(AuditEntry.seq)
                        .limit(chunk)
                    )
                )
                .scalars()
                .all()
            )
            if not rows:
                break
            for entry in rows:
                report.checked += 1
                if entry.seq != expected_seq:
                    report.problems.append(
                        f"entry {entry.seq}: expected sequence {expected_seq} "
                        f"(entries {expected_seq}..{entry.seq - 1} are missing)"
                    )
                if entry.prev_hash != expected_prev:
                    report.problems.append(f"entry {entry.seq}: previous-hash link is broken")
                if entry_hash(entry.prev_hash, entry) != entry.hash:
                    report.problems.append(f"entry {entry.seq}: content does not match its hash")
                expected_prev = entry.hash
                expected_seq = entry.seq + 1
            last_seq = rows[-1].seq
            session.expunge_all()
        head = await session.get(AuditHead, HEAD_ID)
    if head is None:
        report.problems.append("the chain head is missing")
    elif head.seq != expected_seq - 1 or head.hash != expected_prev:
        report.problems.append(
            f"the chain head says {head.seq} entries but {expected_seq - 1} were found: "
            "entries were removed from the end"
        )
    return report


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters of an audit search."""

    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    commune: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_seq: int | None = None
    limit: int = 100


async def search(ctx: Context, query: AuditQuery) -> Sequence[AuditEntry]:
    """Entries matching ``query``, newest first, within the caller's commune scope.

    Metropolis-wide entries (no commune) are shown only to metropolis-wide auditors.
    """
    ctx.principal.require(Permission.AUDIT_READ)
    stmt = select(AuditEntry).where(ctx.principal.scope_clause(AuditEntry.commune_code))
    if query.actor:
        stmt = stmt.where(AuditEntry.actor == query.actor)
    if query.action:
        # "asset" matches asset.create, asset.update, ...
        stmt = stmt.where(
            (AuditEntry.action == query.action) | AuditEntry.action.startswith(query.action + ".")
        )
    if query.target_type:
        stmt = stmt.where(AuditEntry.target_type == query.target_type)
    if query.target_id:
        stmt = stmt.where(AuditEntry.target_id == query.target_id)
    if query.outcome:
        stmt = stmt.where(AuditEntry.outcome == query.outcome)
    if query.since:
        stmt = stmt.where(AuditEntry.ts >= query.since)
    if query.until:
        stmt = stmt.where(AuditEntry.ts < query.until)
    if query.before_seq:
        stmt = stmt.where(AuditEntry.seq < query.before_seq)
    stmt = stmt.order_by(AuditEntry.seq.desc()).limit(query.limit)
    async with ctx.db.read() as session:
        if query.commune:
            codes = await filter_codes(session, ctx.principal, [query.commune])
            stmt = stmt.where(AuditEntry.commune_code.in_(codes))
        return (await session.execute(stmt)).scalars().all()
