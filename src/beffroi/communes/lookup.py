"""Commune references in filters, checked against the communes and the caller's scope.

Apart from :mod:`beffroi.communes.service` (which audits, so the audit area could not use
it without a cycle): every area's list filters resolve their communes here.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.communes.models import Commune
from beffroi.core.context import Context
from beffroi.core.errors import FieldError, InvalidInput
from beffroi.core.principal import Principal


async def filter_codes(
    session: AsyncSession, principal: Principal, refs: Sequence[str], field: str = "commune"
) -> list[str]:
    """Commune codes for the references of a list filter (codes or names, any case).

    A reference to no commune is refused rather than read as "matches nothing", and so is
    one outside the caller's scope (its existence is not theirs to learn): the error names
    it and the communes the caller may name.
    """
    if not refs:
        return []
    rows = (await session.execute(select(Commune.code, Commune.name))).all()
    by_ref = {ref.lower(): code for code, name in rows for ref in (code, name)}
    codes = [by_ref.get(ref.strip().lower()) for ref in refs]
    unknown = [
        ref
        for ref, code in zip(refs, codes, strict=True)
        if code is None or not principal.sees(code)
    ]
    if unknown:
        allowed = sorted(code for code, _ in rows if principal.sees(code))
        given = ", ".join(repr(ref[:64]) for ref in unknown[:5])
        raise InvalidInput(
            FieldError(field, f"unknown commune {given}; allowed: {', '.join(allowed)}")
        )
    return sorted({code for code in codes if code is not None})


async def filter_code(ctx: Context, ref: str | None, field: str = "commune") -> str | None:
    """The code of the one commune a filter names (code or name), checked as
    :func:`filter_codes` does; ``None`` or empty: no filter."""
    if not ref:
        return None
    async with ctx.db.read() as session:
        [code] = await filter_codes(session, ctx.principal, [ref], field)
    return code
