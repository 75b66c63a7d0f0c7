"""Scheduled work of the open data area: each dataset refreshed on its own schedule (the
scheduler's registry makes one job per dataset from :data:`DATASETS`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from beffroi.core.context import Context
from beffroi.opendata import service
from beffroi.opendata.service import Snapshot

log = structlog.get_logger(__name__)


def refresher(dataset_id: str) -> Callable[[Context], Awaitable[Snapshot]]:
    """The job refreshing ``dataset_id``: a new snapshot each run (idempotent in effect:
    a run again builds the same data under the next version, and old ones are pruned)."""

    async def refresh(ctx: Context) -> Snapshot:
        done = await service.refresh(ctx, dataset_id)
        log.info(
            "open data refreshed", dataset=dataset_id, version=done.version, rows=done.row_count
        )
        return done

    refresh.__name__ = f"refresh_{dataset_id.replace('-', '_')}"
    return refresh
