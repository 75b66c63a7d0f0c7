"""The gateway's hold on what it has read from the broker, in messages and bytes."""

from __future__ import annotations

import threading

from beffroi.gateway.source import Budget


def test_room_is_bounded_by_bytes_as_well_as_messages() -> None:
    budget = Budget(messages=10, size=1000)
    assert budget.take(600, timeout=0)
    assert not budget.take(600, timeout=0), "1,200 bytes would exceed 1,000"
    assert budget.take(400, timeout=0)
    budget.release(1, 600)
    assert budget.take(500, timeout=0)
    assert (budget.messages, budget.bytes) == (2, 900)


def test_room_is_bounded_by_messages() -> None:
    budget = Budget(messages=2, size=1 << 20)
    assert budget.take(1, timeout=0)
    assert budget.take(1, timeout=0)
    assert not budget.take(1, timeout=0)


def test_a_message_larger_than_the_budget_passes_alone() -> None:
    budget = Budget(messages=10, size=100)
    assert budget.take(5000, timeout=0), "else it would wait for ever"
    assert not budget.take(1, timeout=0)
    budget.release(1, 5000)
    assert budget.take(1, timeout=0)


def test_freeing_more_than_is_held_leaves_nothing_held() -> None:
    budget = Budget(messages=1, size=100)
    budget.release(3, 300)
    assert (budget.messages, budget.bytes) == (0, 0)
    assert budget.take(100, timeout=0)
    assert not budget.take(1, timeout=0), "never more room than the budget"


def test_a_waiting_reader_goes_on_when_room_is_freed() -> None:
    budget = Budget(messages=1, size=100)
    assert budget.take(50, timeout=0)
    took: list[bool] = []
    reader = threading.Thread(target=lambda: took.append(budget.take(50, timeout=5)))
    reader.start()
    budget.release(1, 50)
    reader.join(5)
    assert took == [True]
