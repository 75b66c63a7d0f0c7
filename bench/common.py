"""Helpers shared by the benchmarks: scratch databases, a real server, timing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from tests.scratch import create_scratch_database, drop_database

from beffroi import migrations as migrate
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.db import Database

POSTGRES_URL = os.environ.get(
    "BEFFROI_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


@dataclass(frozen=True, slots=True)
class Timing:
    """Repeated measurements of one thing, in seconds."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        """The median sample."""
        return statistics.median(self.samples)

    @property
    def best(self) -> float:
        """The fastest sample."""
        return min(self.samples)

    def __str__(self) -> str:
        return f"median {self.median * 1000:7.1f} ms (best {self.best * 1000:.1f})"


def free_port() -> int:
    """A TCP port free on the loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def postgres_available() -> bool:
    """Whether the benchmark PostgreSQL server answers."""
    engine = create_async_engine(POSTGRES_URL)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:  # unreachable for any reason means: skip it
        return False
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def scratch_database(backend: str) -> AsyncIterator[str]:
    """A new, migrated database URL of ``backend``, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="beffroi-bench-") as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            await asyncio.to_thread(migrate.upgrade, url)
            yield url
        return
    url = await create_scratch_database(POSTGRES_URL, "beffroi_bench")
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        yield url
    finally:
        await drop_database(url)


@contextlib.asynccontextmanager
async def scratch_postgres() -> AsyncIterator[tuple[str, Database]]:
    """A new, migrated PostgreSQL database: its URL and a :class:`Database` on it, both
    gone afterwards."""
    async with scratch_database("postgresql") as url:
        db = Database(url)
        try:
            yield url, db
        finally:
            await db.dispose()


async def vacuum(db: Database, table: str, *, full: bool = False) -> None:
    """``VACUUM ANALYZE`` (or ``VACUUM FULL ANALYZE``) ``table``, outside any transaction
    as PostgreSQL requires, so that one measurement does not pay for the last one's dead
    rows."""
    async with db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f"VACUUM {'FULL ' if full else ''}ANALYZE {table}"))


@contextlib.contextmanager
def running_server(database_url: str) -> Iterator[str]:
    """``beffroi serve`` in a subprocess on a free loopback port; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "BEFFROI_DATABASE_URL": database_url,
        "BEFFROI_PORT": str(port),
        "BEFFROI_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "beffroi", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                err = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"server did not start: {err}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- CPU time, per part of a run (Linux /proc) ------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds ``pid`` has used so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def postgres_backends(database: str) -> list[int]:
    """The server processes working on ``database`` now: its connections' backends and any
    autovacuum worker on it (their titles name it)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if title.startswith("postgres:") and f" {database} " in f"{title} ":
                out.append(int(entry.name))
    return out


@dataclass(slots=True)
class CpuMeter:
    """CPU seconds used by named groups of processes between :meth:`start` and :meth:`stop`
    (processes found at each end; a backend that came and went between is missed)."""

    groups: dict[str, Callable[[], list[int]]]
    used: dict[str, float] = field(default_factory=dict)
    _at_start: dict[int, float] = field(default_factory=dict)

    def start(self) -> None:
        """Take the first reading."""
        self._at_start = {p: cpu_seconds(p) for pids in self._pids().values() for p in pids}

    def stop(self) -> dict[str, float]:
        """Seconds each group used since :meth:`start`."""
        self.used = {
            name: sum(cpu_seconds(p) - self._at_start.get(p, 0.0) for p in pids)
            for name, pids in self._pids().items()
        }
        return self.used

    def _pids(self) -> dict[str, list[int]]:
        return {name: pids() for name, pids in self.groups.items()}


def bench_vehicles(count: int) -> list[AssetCreate]:
    """Service vehicles around the centre of Dijon (registered; they report later)."""
    return [
        AssetCreate(
            id=f"VEH-BENCH-{n:04d}",
            type="vehicle",
            name=f"Véhicule {n}",
            commune="dijon",
            location=Point(coordinates=(5.04, 47.32)),
            attributes={"kind": ("salting_truck", "patrol", "field_crew")[n % 3]},
        )
        for n in range(1, count + 1)
    ]
