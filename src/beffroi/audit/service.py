"""Reading and verifying the hash-chained audit log (writing is :mod:`beffroi.core.audit`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from beffroi.communes.lookup import filter_codes
from beffroi.core.audit import HEAD_ID, AuditEntry, AuditHead, entry_hash
from beffroi.core.chain import ChainWalk
from beffroi.core.context import Context
from beffroi.core.errors import PermissionDenied
from beffroi.core.keyset import Keyset
from beffroi.core.principal import Permission
from beffroi.db import Database


@dataclass(slots=True)
class VerifyReport:
    """The result of walking the chain."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the chain is intact."""
        return not self.problems


async def verify_chain(ctx: Context) -> VerifyReport:
    """Walk the whole hash chain, for a metropolis-wide auditor or administrator: the
    chain is everyone's entries, whatever a narrower scope would let one read."""
    ctx.principal.require(Permission.AUDIT_READ)
    if not ctx.principal.all_communes:
        raise PermissionDenied("verifying the whole chain needs metropolis-wide scope")
    return await verify(ctx.db)


async def verify(db: Database, chunk: int = 5000) -> VerifyReport:
    """Walk the whole chain and report every break: edited, inserted or deleted entries."""
    walk = ChainWalk()
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
                computed = entry_hash(entry.prev_hash, entry)
                walk.step(entry.seq, entry.prev_hash, entry.hash, computed)
            last_seq = rows[-1].seq
            session.expunge_all()
        head = await session.get(AuditHead, HEAD_ID)
    walk.end(head.seq if head else None, head.hash if head else None)
    return VerifyReport(checked=walk.checked, problems=walk.problems)


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


NEWEST = Keyset((AuditEntry.seq,), descending=True)  # the chain, from its head


async def search(ctx: Context, query: AuditQuery) -> tuple[Sequence[AuditEntry], int | None]:
    """Entries matching ``query``, newest first, within the caller's commune scope, and
    the ``before`` of the next page (``None`` on the last).

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
    # The API shows sequence numbers (auditors quote them), so ``before`` is one, not a cursor.
    stmt = NEWEST.apply(stmt, (query.before_seq,) if query.before_seq else None, query.limit)
    async with ctx.db.read() as session:
        if query.commune:
            codes = await filter_codes(session, ctx.principal, [query.commune])
            stmt = stmt.where(AuditEntry.commune_code.in_(codes))
        rows = (await session.execute(stmt)).scalars().all()
    page, last = NEWEST.cut(rows, query.limit)
    return page, None if last is None else last[0]
