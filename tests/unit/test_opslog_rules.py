"""The operations log's rules that need no database: who reads its events on the live
stream, and what the police role may do."""

from __future__ import annotations

from datetime import UTC, datetime

from beffroi.console.board import LiveBoard
from beffroi.console.stream import Viewer
from beffroi.core.principal import ActorKind, Permission, Principal, Role
from beffroi.opslog.events import RecordAdded


def person(role: Role, communes: frozenset[str] | None) -> Principal:
    return Principal(role.value, ActorKind.USER, frozenset({role}), communes=communes)


def admitted(principal: Principal, commune: str) -> bool:
    board = LiveBoard.__new__(LiveBoard)
    event = RecordAdded(3, 1, "amendment", "police", "incident", commune, datetime.now(UTC))
    return Viewer(principal, board, set()).admits(event)


def test_a_record_goes_to_whoever_reads_the_log_in_its_commune() -> None:
    talant_police = person(Role.POLICE, frozenset({"talant"}))
    assert admitted(talant_police, "talant")
    assert not admitted(talant_police, "chenove")
    assert admitted(person(Role.AUDITOR, None), "chenove")
    # A viewer reads the equipment, not the room's log.
    assert not admitted(person(Role.VIEWER, None), "talant")


def test_police_writes_the_log_and_sends_no_command() -> None:
    police = person(Role.POLICE, frozenset({"talant"}))
    assert police.can(Permission.OPSLOG_WRITE)
    assert police.can(Permission.ASSET_READ)
    assert police.can(Permission.ALARM_READ)
    assert not police.can(Permission.COMMAND_SEND)
    assert not police.can(Permission.ALARM_HANDLE)
    assert not police.can(Permission.REPORT_READ)
    assert not police.can(Permission.DOMAIN_ALL)
