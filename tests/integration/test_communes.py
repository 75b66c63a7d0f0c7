"""Creating and importing communes, on both databases."""

from __future__ import annotations

import pytest

from beffroi.communes.schemas import CommuneIn
from beffroi.communes.service import create_commune, import_communes
from beffroi.core.context import Context, Runtime
from beffroi.core.errors import Conflict, InvalidInput, PermissionDenied
from beffroi.core.principal import ActorKind, Principal, Role
from tests.support import audit_seq, audited_since, table_rows

pytestmark = pytest.mark.asyncio


def place(name: str, code: str | None = None) -> CommuneIn:
    """A commune near Dijon."""
    return CommuneIn(name=name, code=code, lat=47.3, lon=5.0, population=100)


async def test_refused_changes_are_audited_and_write_nothing(
    runtime: Runtime, system: Context
) -> None:
    talant_admin = runtime.context(
        Principal(
            name="talant-admin",
            kind=ActorKind.USER,
            roles=frozenset({Role.ADMIN}),
            communes=frozenset({"talant"}),
        )
    )
    before, seq = await table_rows(runtime, "communes"), await audit_seq(runtime)

    with pytest.raises(Conflict):
        await create_commune(system, place("Talant"))
    with pytest.raises(InvalidInput, match="duplicate code"):
        await import_communes(system, [place("Neuve"), place("Neuve")])
    # A good commune in a batch with a name already taken: neither is written.
    with pytest.raises(InvalidInput, match="name of commune 'dijon'"):
        await import_communes(system, [place("Neuve"), place("Dijon", code="dijon-2")])
    with pytest.raises(PermissionDenied):
        await import_communes(talant_admin, [place("Neuve")])

    assert await table_rows(runtime, "communes") == before
    refusals = await audited_since(runtime, seq)
    assert [(e.action, e.actor, e.target_id, e.outcome) for e in refusals] == [
        ("commune.create.refused", "tests", "talant", "denied"),
        ("commune.import.refused", "tests", None, "denied"),
        ("commune.import.refused", "tests", None, "denied"),
        ("commune.import.refused", "talant-admin", None, "denied"),
    ]
    assert refusals[0].details == {"error": "commune 'talant' or 'Talant' already exists"}
    assert [e.details["count"] for e in refusals[1:]] == [2, 2, 1]
    assert "'Dijon' is the name of commune 'dijon'" in refusals[2].details["error"]
