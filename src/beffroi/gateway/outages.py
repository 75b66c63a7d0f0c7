"""Telling a database that is away from data it refuses, and waiting the outage out.

An outage (unreachable, busy, restarting) is waited out and the same work tried again;
data the database refuses is not: the pipeline isolates it instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    after_nothing,
    retry_if_exception,
    wait_exponential,
)

from beffroi.core.tasks import pause

# While the database is down: a first wait, doubled after each failure up to the last.
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 10.0
# SQLSTATEs that say nothing of the data: a deadlock or serialization failure (tried again
# whole), and the classes of a database going away or out of resources (08 connection,
# 53 insufficient resources, 57 operator intervention such as a shutdown, 58 system error).
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
RETRYABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "58"})


def is_transient(exc: BaseException) -> bool:
    """Whether a write failed because the database is unreachable or busy (retry), as
    opposed to refusing the data (isolate the culprit)."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        code = getattr(exc.orig, "sqlstate", None)
        if isinstance(code, str) and (
            code in RETRYABLE_SQLSTATES or code[:2] in RETRYABLE_SQLSTATE_CLASSES
        ):
            return True
    return isinstance(exc, OperationalError | InterfaceError | OSError | TimeoutError)


def first_line(exc: BaseException | None) -> str:
    """The first line of an error's message (a database's can be long), or its type."""
    lines = str(exc).splitlines()
    return lines[0][:200] if lines else type(exc).__name__


def while_down(
    stop: asyncio.Event | None,
    *,
    after: Callable[[RetryCallState], None] = after_nothing,
) -> AsyncRetrying:
    """Calls a database operation until it succeeds, trying again after an error that says
    the database is unreachable or busy (:func:`is_transient`), until ``stop`` is set: then,
    or for any other error, the error is raised. ``after`` is told of each failure that is
    tried again (or would be, but for ``stop``)."""

    async def nap(seconds: float) -> None:
        if stop is None:
            await asyncio.sleep(seconds)
        else:
            await pause(stop, seconds)  # a stop cuts the wait short: one last try follows

    return AsyncRetrying(
        retry=retry_if_exception(is_transient),
        wait=wait_exponential(multiplier=FIRST_BACKOFF_S, max=MAX_BACKOFF_S),
        stop=lambda _state: stop is not None and stop.is_set(),
        sleep=nap,
        after=after,
        reraise=True,
    )
