"""Routes of the audit log (auditors and administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from beffroi.audit import service
from beffroi.audit.schemas import AuditEntryOut, AuditPage, VerifyOut
from beffroi.core.audit import OUTCOMES
from beffroi.core.dates import Instant
from beffroi.http.deps import Ctx
from beffroi.http.params import PageLimit, choice

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("")
async def search_audit(
    ctx: Ctx,
    outcome: Annotated[str | None, choice("outcome", OUTCOMES, "Outcome")],
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[
        str | None, Query(max_length=100, description="Exact, or a prefix like 'asset'")
    ] = None,
    target_type: Annotated[str | None, Query(max_length=50)] = None,
    target_id: Annotated[str | None, Query(max_length=200)] = None,
    commune: Annotated[str | None, Query(max_length=100, description="Code or name")] = None,
    since: Instant | None = None,
    until: Instant | None = None,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: PageLimit = 100,
) -> AuditPage:
    """Audit entries in your scope, newest first."""
    entries, next_before = await service.search(
        ctx,
        service.AuditQuery(
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            commune=commune,
            outcome=outcome,
            since=since,
            until=until,
            before_seq=before,
            limit=limit,
        ),
    )
    items = [AuditEntryOut.model_validate(e) for e in entries]
    return AuditPage(items=items, next_before=next_before)


@router.get("/verify")
async def verify_audit(ctx: Ctx) -> VerifyOut:
    """Walk the whole hash chain (metropolis-wide auditors and administrators)."""
    report = await service.verify_chain(ctx)
    return VerifyOut(ok=report.ok, checked=report.checked, problems=report.problems)
