"""The ingest pipeline's patience with the database: which errors it waits out, how long it
waits between tries, and that a stop or a cancellation ends the wait."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy.exc import IntegrityError
from tenacity import RetryCallState

from beffroi.gateway import outages
from beffroi.gateway.outages import while_down


class Flaky:
    """A database call failing with ``error`` the first ``failures`` times."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "written"


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outages, "FIRST_BACKOFF_S", 0.001)
    monkeypatch.setattr(outages, "MAX_BACKOFF_S", 0.004)


def test_the_wait_doubles_from_half_a_second_up_to_ten() -> None:
    retrying = while_down(None)
    waits = []
    for attempt in range(1, 9):
        state = RetryCallState(retrying, fn=None, args=(), kwargs={})
        state.attempt_number = attempt
        waits.append(retrying.wait(state))
    assert waits == [0.5, 1, 2, 4, 8, 10, 10, 10]


@pytest.mark.usefixtures("quick")
async def test_an_unreachable_database_is_waited_out() -> None:
    call = Flaky(3, ConnectionRefusedError("connection refused"))
    failures: list[int] = []
    retrying = while_down(None, after=lambda state: failures.append(state.attempt_number))
    assert await retrying(call) == "written"
    assert call.calls == 4
    assert failures == [1, 2, 3]


@pytest.mark.usefixtures("quick")
async def test_data_the_database_refuses_is_not_tried_again() -> None:
    refused = IntegrityError("INSERT …", {}, Exception("duplicate key"))
    call = Flaky(1, refused)
    with pytest.raises(IntegrityError):
        await while_down(None)(call)
    assert call.calls == 1


async def test_a_stop_ends_the_wait_with_one_last_try() -> None:
    stop = asyncio.Event()
    call = Flaky(100, OSError("database gone"))
    task: asyncio.Task[str] = asyncio.create_task(while_down(stop)(call))
    await asyncio.sleep(0.1)  # the first try failed; waiting 0.5 s
    started = time.monotonic()
    stop.set()
    with pytest.raises(OSError, match="database gone"):
        await task
    assert time.monotonic() - started < 0.4, "the wait was cut short"
    assert call.calls == 2


async def test_a_stop_already_set_means_one_try() -> None:
    stop = asyncio.Event()
    stop.set()
    call = Flaky(1, OSError("database gone"))
    with pytest.raises(OSError, match="database gone"):
        await while_down(stop)(call)
    assert call.calls == 1


async def test_a_cancelled_task_stops_waiting() -> None:
    call = Flaky(100, OSError("database gone"))
    task: asyncio.Task[str] = asyncio.create_task(while_down(None)(call))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert call.calls == 1
