"""Keyset pages (``beffroi.core.keyset``) on both databases: following the cursors reads
every row once, in the order of the keys, whatever their number and direction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from beffroi.communes.models import Commune
from beffroi.core.context import Runtime
from beffroi.core.errors import InvalidInput
from beffroi.core.keyset import Keyset

ORDERS = {
    "one text key": Keyset((Commune.code,)),
    "one text key, descending": Keyset((Commune.code,), descending=True),
    "number then text": Keyset((Commune.population, Commune.code)),
    "instant then text, descending": Keyset((Commune.created_at, Commune.code), descending=True),
}


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("size", [1, 4])
async def test_following_the_cursors_reads_every_row_once_in_order(
    runtime: Runtime, order: str, size: int
) -> None:
    keyset = ORDERS[order]
    async with runtime.db.read() as session:
        expected = (await session.execute(keyset.apply(select(Commune.code), None, 10_000))).all()
        assert len(expected) > 4, "the template seeds the communes"
        seen: list[Any] = []
        cursor: str | None = None
        while True:
            page, cursor = await keyset.page(session, select(Commune), cursor=cursor, limit=size)
            assert len(page) <= size
            seen += [c.code for c in page]
            if cursor is None:
                break
    assert seen == [row.code for row in expected]


async def test_a_full_last_page_has_no_next_cursor(runtime: Runtime) -> None:
    keyset = ORDERS["one text key"]
    async with runtime.db.read() as session:
        count = len((await session.execute(select(Commune.code))).all())
        rows, cursor = await keyset.page(session, select(Commune.code), cursor=None, limit=count)
    assert (len(rows), cursor) == (count, None)


async def test_another_lists_cursor_is_refused_before_the_database_sees_it(
    runtime: Runtime,
) -> None:
    async with runtime.db.read() as session:
        _, cursor = await ORDERS["one text key"].page(
            session, select(Commune.code), cursor=None, limit=1
        )
        assert cursor is not None
        with pytest.raises(InvalidInput):
            await ORDERS["number then text"].page(session, select(Commune), cursor=cursor, limit=1)
