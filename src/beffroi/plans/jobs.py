"""The plans' scheduled job: runs under way move on (a batch ended, a notification went)."""

from __future__ import annotations

from beffroi.core.context import Context
from beffroi.plans import progress


async def advance_runs(ctx: Context) -> int:
    """Move every running run as far as it goes; returns how many were looked at."""
    ids = await progress.running_runs(ctx.runtime)
    for run_id in ids:
        await progress.advance(ctx.runtime, run_id)
    return len(ids)
