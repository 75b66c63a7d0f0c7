"""Which snapshot is current, remembered a few seconds: when it is due, one request looks
it up and the others answer at once with the version they know."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from beffroi.opendata import reading
from beffroi.opendata.service import Snapshot
from beffroi.opendata.store import FilesystemStore


def _snapshot(version: int) -> Snapshot:
    return Snapshot("traffic-counts-hourly", version, datetime.now(UTC), 1, "0" * 64, 1)


async def test_a_due_version_is_looked_up_once_while_the_others_answer_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[int] = []
    release = asyncio.Event()

    async def current(db: Any, dataset: str) -> Snapshot:
        lookups.append(len(lookups) + 1)
        if len(lookups) == 2:
            await release.wait()
        return _snapshot(len(lookups))

    monkeypatch.setattr(reading, "current", current)
    published = reading.Published(FilesystemStore(tmp_path), current_ttl_s=0.05)
    first = await published.snapshot(None, "traffic-counts-hourly")  # type: ignore[arg-type]
    assert first is not None
    assert first.version == 1
    await asyncio.sleep(0.06)
    # Due: the first request looks it up (and waits); twenty others answer with version 1.
    looking = asyncio.create_task(published.snapshot(None, "traffic-counts-hourly"))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    others = [await published.snapshot(None, "traffic-counts-hourly") for _ in range(20)]  # type: ignore[arg-type]
    assert [s.version for s in others if s] == [1] * 20
    assert lookups == [1, 2]
    release.set()
    found = await looking
    assert found is not None
    assert found.version == 2
    again = await published.snapshot(None, "traffic-counts-hourly")  # type: ignore[arg-type]
    assert again is not None
    assert again.version == 2
    assert lookups == [1, 2]


async def test_a_failed_lookup_lets_the_next_request_try_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0

    async def current(db: Any, dataset: str) -> Snapshot:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ConnectionError("database gone")
        return _snapshot(calls)

    monkeypatch.setattr(reading, "current", current)
    published = reading.Published(FilesystemStore(tmp_path), current_ttl_s=0.0)
    await published.snapshot(None, "traffic-counts-hourly")  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):
        await published.snapshot(None, "traffic-counts-hourly")  # type: ignore[arg-type]
    found = await published.snapshot(None, "traffic-counts-hourly")  # type: ignore[arg-type]
    assert found is not None
    assert found.version == 3
