"""Streaming a body whose chunks are costly to produce (a large export)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator

_DONE = object()


async def rendered_ahead(chunks: Iterator[bytes]) -> AsyncGenerator[bytes, None]:
    """The chunks of ``chunks``, each produced in a worker thread while the one before it
    is being sent: rendering (polars, which releases the GIL) and sending then overlap
    instead of taking turns, as they do when Starlette draws a plain iterator."""
    pending = asyncio.ensure_future(asyncio.to_thread(next, chunks, _DONE))
    try:
        while (chunk := await pending) is not _DONE:
            pending = asyncio.ensure_future(asyncio.to_thread(next, chunks, _DONE))
            assert isinstance(chunk, bytes)
            yield chunk
    finally:
        # A client gone mid-export: the chunk being rendered is finished, then dropped,
        # so no thread outlives the response.
        await asyncio.wait([pending])
        if not pending.cancelled():
            pending.exception()
