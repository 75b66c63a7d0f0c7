"""Reads that are refused in the service, whatever adapter asks (not only in a route)."""

from __future__ import annotations

import pytest

from beffroi.audit import service as audit_service
from beffroi.catalogue.reading import readable_type, readable_types
from beffroi.console.board import LiveBoard
from beffroi.core.errors import NotFound, PermissionDenied
from beffroi.core.principal import ActorKind, Principal, Role

NOBODY = Principal("device-x", ActorKind.DEVICE)
VIEWER = Principal("viewer", ActorKind.USER, frozenset({Role.VIEWER}), communes=None)
TALANT_AUDITOR = Principal(
    "auditor", ActorKind.USER, frozenset({Role.AUDITOR}), communes=frozenset({"21617"})
)


def test_the_catalogue_is_read_with_the_registry_right() -> None:
    with pytest.raises(PermissionDenied):
        readable_types(NOBODY)
    with pytest.raises(PermissionDenied):
        readable_type(NOBODY, "streetlight")
    assert readable_type(VIEWER, "streetlight").key == "streetlight"
    assert "streetlight" in [t.key for t in readable_types(VIEWER)]
    with pytest.raises(NotFound, match="'lamp'"):
        readable_type(VIEWER, "lamp")


def test_the_map_is_read_with_the_registry_right() -> None:
    board = LiveBoard.__new__(LiveBoard)
    board.assets = {}
    with pytest.raises(PermissionDenied):
        board.rows(NOBODY)
    assert board.rows(VIEWER) == []


async def test_verifying_the_chain_needs_metropolis_wide_scope() -> None:
    class Ctx:
        principal = TALANT_AUDITOR
        db = None

    with pytest.raises(PermissionDenied, match="metropolis-wide"):
        await audit_service.verify_chain(Ctx())  # type: ignore[arg-type]
    Ctx.principal = VIEWER
    with pytest.raises(PermissionDenied):
        await audit_service.verify_chain(Ctx())  # type: ignore[arg-type]
