"""Routes of the operations log: write entries and amendments (never change nor delete
one), search, read one, a desk's daily report, and the chain's verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from beffroi.core.dates import Day, Instant
from beffroi.http.deps import Ctx, RowId
from beffroi.http.params import PageLimit, comma_list, enum_list
from beffroi.opslog import reading, recording
from beffroi.opslog.lifecycle import Desk, LogCategory
from beffroi.opslog.schemas import (
    LogAmendmentCreate,
    LogChainCheck,
    LogDailyReport,
    LogEntryCreate,
    LogEntryOut,
    LogEntryPage,
)

router = APIRouter(prefix="/opslog", tags=["opslog"])


@router.get("/entries")
async def search_entries(
    ctx: Ctx,
    desks: Annotated[list[Desk], enum_list("desk", Desk, "Written from these desks")],
    categories: Annotated[list[LogCategory], enum_list("category", LogCategory, "Categories")],
    commune: Annotated[str | None, Query(max_length=200, description="Codes or names")] = None,
    since: Annotated[Instant | None, Query(description="Occurred at or after")] = None,
    until: Annotated[Instant | None, Query(description="Occurred before")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text contained")] = None,
    asset_id: Annotated[str | None, Query(max_length=64, description="Naming this asset")] = None,
    alarm_id: Annotated[int | None, Query(ge=1, le=2**62, description="Naming this alarm")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: PageLimit = 100,
) -> LogEntryPage:
    """Entries of your communes, newest first, with their amendments."""
    query = reading.Search(
        desks=desks,
        categories=categories,
        communes=comma_list(commune),
        since=since,
        until=until,
        text=q,
        asset_id=asset_id,
        alarm_id=alarm_id,
    )
    return await reading.search(ctx, query, cursor, limit)


@router.post("/entries", status_code=status.HTTP_201_CREATED)
async def record_entry(ctx: Ctx, body: LogEntryCreate) -> LogEntryOut:
    """Write an entry in the log."""
    return await recording.record_entry(ctx, body)


@router.get("/entries/{entry_id}")
async def get_entry(ctx: Ctx, entry_id: RowId) -> LogEntryOut:
    """One entry with its amendments (the newest last)."""
    return await reading.get_entry(ctx, entry_id)


@router.post("/entries/{entry_id}/amendments", status_code=status.HTTP_201_CREATED)
async def amend_entry(ctx: Ctx, entry_id: RowId, body: LogAmendmentCreate) -> LogEntryOut:
    """Correct or complete an entry: the entry stays as written, the amendment follows it."""
    return await recording.amend(ctx, entry_id, body)


@router.get("/daily")
async def daily_report(
    ctx: Ctx,
    day: Annotated[Day, Query(description="Local day (the installation's time zone)")],
    desk: Annotated[Desk, Query(description="The desk")],
) -> LogDailyReport:
    """A desk's day: its entries with their amendments, and counts by category."""
    return await reading.daily(ctx, day, desk)


@router.get("/verify")
async def verify_chain(ctx: Ctx) -> LogChainCheck:
    """Walk the log's hash chain (metropolis-wide auditors)."""
    walk = await reading.verify(ctx)
    return LogChainCheck(ok=walk.ok, checked=walk.checked, problems=walk.problems)
