"""A costly body rendered one chunk ahead while the last is sent: the same chunks in the
same order, the renderer's error raised to the sender, and nothing left running when the
client leaves mid-way."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from beffroi.http.streaming import rendered_ahead


def _numbered(n: int, log: list[tuple[str, int]]) -> Iterator[bytes]:
    for i in range(n):
        log.append((threading.current_thread().name, i))
        time.sleep(0.01)
        yield b"%d," % i


async def test_the_chunks_come_whole_and_in_order_from_a_worker_thread() -> None:
    log: list[tuple[str, int]] = []
    got = [chunk async for chunk in rendered_ahead(_numbered(20, log))]
    assert got == [b"%d," % i for i in range(20)]
    assert threading.main_thread().name not in {name for name, _ in log}


async def test_the_next_chunk_is_rendered_while_one_is_being_sent() -> None:
    log: list[tuple[str, int]] = []
    stream = rendered_ahead(_numbered(5, log))
    assert await anext(stream) == b"0,"
    # Nothing asked yet: the second chunk is being rendered all the same.
    for _ in range(100):
        if len(log) == 2:
            break
        await asyncio.sleep(0.01)
    assert [i for _, i in log] == [0, 1]
    await stream.aclose()


async def test_a_renderers_error_reaches_the_sender() -> None:
    def failing() -> Iterator[bytes]:
        yield b"a"
        raise ValueError("bad frame")

    stream = rendered_ahead(failing())
    assert await anext(stream) == b"a"
    with pytest.raises(ValueError, match="bad frame"):
        await anext(stream)


async def test_a_client_leaving_midway_leaves_no_rendering_behind() -> None:
    log: list[tuple[str, int]] = []
    stream = rendered_ahead(_numbered(1000, log))
    assert await anext(stream) == b"0,"
    await stream.aclose()
    rendered = len(log)
    await asyncio.sleep(0.05)
    # The chunk under way when the client left was finished; none was started after.
    assert len(log) == rendered <= 2
