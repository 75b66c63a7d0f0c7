"""The hash-chained audit log: append-only, and tampering is detected."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from beffroi.audit import service as audit
from beffroi.core import audit as audit_log
from beffroi.core.context import Context, Runtime
from tests.support import Person, run_cli

pytestmark = pytest.mark.asyncio


async def _write_entries(system: Context, count: int) -> None:
    async with system.db.write() as session:
        for n in range(count):
            await audit_log.record(
                session,
                system.principal,
                "test.event",
                target_type="thing",
                target_id=f"T{n}",
                commune="talant",
                details={"n": n, "label": "é", "value": 1.5},
            )


async def _tamper(runtime: Runtime, sql: str) -> None:
    """Run ``sql`` with the append-only guard lifted, as an intruder with DB access would."""
    async with runtime.db.engine.begin() as conn:
        if runtime.db.is_postgres:
            await conn.execute(
                text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only")
            )
            await conn.execute(text(sql))
            await conn.execute(
                text("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only")
            )
        else:
            await conn.execute(text("DROP TRIGGER audit_entries_no_update"))
            await conn.execute(text("DROP TRIGGER audit_entries_no_delete"))
            await conn.execute(text(sql))


async def test_intact_chain_verifies(system: Context, runtime: Runtime) -> None:
    await _write_entries(system, 5)
    report = await audit.verify(runtime.db)
    # The default communes import is the first entry.
    assert report.ok, report.problems
    assert report.checked == 6


async def test_the_log_pages_by_sequence_and_its_last_page_says_so(
    system: Context, client: httpx.AsyncClient, admin: Person
) -> None:
    await _write_entries(system, 5)
    everything = (await client.get("/api/v1/audit?limit=1000", headers=admin.headers)).json()
    assert everything["next_before"] is None
    newest_first = [e["seq"] for e in everything["items"]]
    assert newest_first == sorted(newest_first, reverse=True)
    # A last page just full says there is no other (it used to lead to an empty page).
    for limit in (2, 3, len(newest_first)):
        seen: list[int] = []
        pages = 0
        params: dict[str, Any] = {"limit": limit}
        while True:
            page = (await client.get("/api/v1/audit", params=params, headers=admin.headers)).json()
            pages += 1
            seen += [e["seq"] for e in page["items"]]
            if page["next_before"] is None:
                break
            assert page["next_before"] == seen[-1]
            params["before"] = page["next_before"]
        assert seen == newest_first, limit
        assert pages == -(-len(seen) // limit), limit


async def test_database_refuses_edits(system: Context, runtime: Runtime) -> None:
    await _write_entries(system, 2)
    for sql in ("UPDATE audit_entries SET actor = 'x'", "DELETE FROM audit_entries"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with runtime.db.engine.begin() as conn:
                await conn.execute(text(sql))


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "UPDATE audit_entries SET actor = 'mallory' WHERE seq = 3",
            "entry 3: content does not match",
        ),
        (
            "UPDATE audit_entries SET reason = 'covered up' WHERE seq = 2",
            "entry 2: content does not match",
        ),
        ("DELETE FROM audit_entries WHERE seq = 3", "entry 4: expected sequence 3"),
        ("DELETE FROM audit_entries WHERE seq = 6", "removed from the end"),
    ],
)
async def test_tampering_is_detected(
    system: Context, runtime: Runtime, sql: str, expected: str
) -> None:
    await _write_entries(system, 5)
    await _tamper(runtime, sql)
    report = await audit.verify(runtime.db)
    assert not report.ok
    assert any(expected in p for p in report.problems), report.problems


async def test_cli_verify_exits_1_on_tampering(
    system: Context, runtime: Runtime, database_url: str
) -> None:
    await _write_entries(system, 3)
    env = {"BEFFROI_DATABASE_URL": database_url}
    ok = await run_cli("audit", "verify", env=env)
    assert ok.returncode == 0, ok.stderr
    assert "intact: 4 entries" in ok.stdout
    await _tamper(runtime, "UPDATE audit_entries SET details = '{}' WHERE seq = 2")
    bad = await run_cli("audit", "verify", env=env)
    assert bad.returncode == 1
    assert "entry 2" in bad.stderr
