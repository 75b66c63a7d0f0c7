"""Following up stored messages without ever putting them at risk.

What a batch brings is followed up in its transaction, in stages: command replies,
command verification, monitoring rules, alarms (and, once committed, the hub's events).
Each stage runs in a savepoint. When it fails, its work is rolled back, the failure is
logged with the stage's name and counted (``beffroi_followup_failures_total{stage}``),
and the batch is stored and acknowledged all the same: a follow-up never makes a valid
message refused, lost or delivered again.

A stage that fails for a whole batch is tried again on halves of the batch's assets,
down to the assets it fails for, so the other messages of the batch are still followed
up. When nothing fails this costs one savepoint; one failing asset among n costs about
2·log2(n) more attempts, only in that batch.

Whether a failure was the follow-up's or the database's is told by the savepoint: when
it rolls back, the transaction is alive and the batch goes on; when it cannot (the
connection is lost, the server shut down), that error is raised and the gateway holds
the whole batch and writes it again, as for any outage. So a failure that depends on the
data is never retried for ever, whatever its class.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from enum import StrEnum
from functools import partial
from typing import TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi import metrics
from beffroi.core.events import DomainEvent, EventHub

log = structlog.get_logger(__name__)

R = TypeVar("R")
# Assets named in a failure's log line: enough to look into, not a wall of ids.
NAMED_AT_MOST = 10

# The assets a stage attempt covers; None: every asset of the batch.
Part = frozenset[str] | None


class Stage(StrEnum):
    """The follow-ups of a stored batch, each isolated from the others."""

    REPLIES = "replies"  # device replies move their commands
    VERIFICATION = "verification"  # reported state verifies commands
    RULES = "rules"  # monitoring rules judge the newest values
    ALARMS = "alarms"  # faults, silences and rule verdicts raise and clear alarms
    VEHICLES = "vehicles"  # positions extend the vehicles' tracks
    EVENTS = "events"  # hub events published after the commit


def describe(exc: BaseException) -> str:
    """An error in one short line."""
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first[:200]}"


async def attempt(session: AsyncSession, work: Callable[[], Awaitable[R]]) -> R | Exception:
    """``work``'s result, or the exception it raised with its writes rolled back to a
    savepoint (the transaction goes on). A savepoint that cannot be rolled back means
    the database is away: that raises, and the gateway holds the batch."""
    savepoint = await session.begin_nested()
    try:
        result = await work()
    except Exception as exc:
        await savepoint.rollback()
        return exc
    await savepoint.commit()
    return result


async def run_stage(
    session: AsyncSession,
    stage: Stage,
    work: Callable[[Part], Awaitable[R]],
    assets: Callable[[], Iterable[str]],
) -> list[R]:
    """Run ``work`` for the whole batch (``None``) in a savepoint; if it fails, run it
    again on halves of ``assets()`` until each failing asset is alone. Returns the results
    of the attempts that succeeded (their work is kept); failures are logged and counted,
    never raised (see :func:`attempt`)."""
    done: list[R] = []
    failed: list[tuple[str | None, Exception]] = []
    todo: list[tuple[str, ...] | None] = [None]
    while todo:
        part = todo.pop()
        result = await attempt(session, partial(work, None if part is None else frozenset(part)))
        if not isinstance(result, Exception):
            done.append(result)
            continue
        if part is None:
            part = tuple(sorted(set(assets())))
            log.warning(
                "follow-up failed for a batch: trying again asset by asset",
                stage=stage.value,
                assets=len(part),
                error=describe(result),
            )
        if len(part) <= 1:
            failed.append((part[0] if part else None, result))
        else:
            middle = len(part) // 2
            todo += [part[middle:], part[:middle]]
    if failed:
        abandoned(stage, [a for a, _ in failed], failed[0][1])
    return done


def abandoned(
    stage: Stage, assets: Sequence[str | None], error: BaseException, **context: object
) -> None:
    """Log and count follow-ups given up at ``stage`` (one per asset, or per event)."""
    metrics.FOLLOWUP_FAILURES.labels(stage.value).inc(len(assets))
    named = [a for a in assets if a is not None]
    log.error(
        "follow-up failed: the messages are stored, this follow-up of them is abandoned",
        stage=stage.value,
        count=len(assets),
        assets=named[:NAMED_AT_MOST],
        error=describe(error),
        exc_info=error,
        **context,
    )


def publish(hub: EventHub, events: Sequence[DomainEvent]) -> None:
    """Publish a committed batch's events: the last follow-up stage. An event that cannot
    be published is logged and counted, and the others still go: the batch is stored and
    acknowledged whatever a subscriber does."""
    failed: list[str | None] = []
    error: Exception | None = None
    for event in events:
        try:
            hub.publish(event)
        except Exception as exc:  # a subscriber's fault: never the stream's
            failed.append(getattr(event, "asset_id", None))
            error = error or exc
    if error is not None:
        abandoned(Stage.EVENTS, failed, error)
