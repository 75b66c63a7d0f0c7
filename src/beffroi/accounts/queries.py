"""What other areas read of the accounts: people, never the table (nor their secrets)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.accounts.models import User


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who signs in, as other areas see them."""

    id: int
    username: str
    display_name: str
    communes: list[str] | None  # None: metropolis-wide
    disabled: bool
    roles: tuple[str, ...] = ()

    def works_in(self, commune: str) -> bool:
        """Whether the person's scope includes ``commune``."""
        return self.communes is None or commune in self.communes


_PERSON = (User.id, User.username, User.display_name, User.communes, User.disabled, User.roles)


def _person(row: Any) -> Person:
    return Person(
        row.id, row.username, row.display_name, row.communes, row.disabled, tuple(row.roles or ())
    )


async def person_named(session: AsyncSession, username: str) -> Person | None:
    """The person with this username, if any."""
    row = (await session.execute(select(*_PERSON).where(User.username == username))).first()
    return None if row is None else _person(row)


async def people(session: AsyncSession, ids: Iterable[int]) -> dict[int, Person]:
    """The people among ``ids`` who exist, by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.execute(select(*_PERSON).where(User.id.in_(wanted)))
    return {row.id: _person(row) for row in rows}
