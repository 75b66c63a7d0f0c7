"""Routes of the devices area: refused device logins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from beffroi.devices import logins
from beffroi.devices.schemas import LoginFailureOut, LoginFailuresOut
from beffroi.http.deps import Ctx
from beffroi.http.params import PageLimit

router = APIRouter(tags=["device ingest"])


@router.get("/ingest/login-failures")
async def get_login_failures(
    ctx: Ctx,
    asset_id: Annotated[str | None, Query(max_length=64, description="One device's")] = None,
    hours: Annotated[int, Query(ge=1, le=24 * 30)] = 24 * 7,
    limit: PageLimit = 100,
) -> LoginFailuresOut:
    """Logins the brokers and HTTP ingest refused (wrong or revoked secret, unknown
    device, client id not its own…), counted per username, reason and path."""
    found = await logins.login_failures(ctx, asset_id=asset_id, hours=hours, limit=limit)
    return LoginFailuresOut(items=[LoginFailureOut.model_validate(f) for f in found])
