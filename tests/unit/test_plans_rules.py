"""Who the console tells of a plan run (whoever reads plans and sees all its communes),
and who may do what with plans (the role table)."""

from __future__ import annotations

from datetime import UTC, datetime

from beffroi.console.board import LiveBoard
from beffroi.console.stream import Viewer
from beffroi.core.principal import ActorKind, Permission, Principal, Role
from beffroi.plans.events import RunChanged


def person(role: Role, communes: frozenset[str] | None) -> Principal:
    return Principal("p", ActorKind.USER, frozenset({role}), communes=communes)


def told(principal: Principal, communes: tuple[str, ...]) -> bool:
    board = LiveBoard.__new__(LiveBoard)
    event = RunChanged(1, "running", 0, "done", datetime.now(UTC), communes)
    return Viewer(principal, board, set()).admits(event)


def test_a_run_is_told_to_whoever_sees_all_its_communes() -> None:
    talant = person(Role.OPERATOR, frozenset({"talant"}))
    assert told(talant, ("talant",))
    assert not told(talant, ("chenove",))
    assert not told(talant, ("chenove", "talant"))
    # A metropolis plan (no communes) only to the metropolis-wide.
    assert not told(talant, ())
    assert told(person(Role.SUPERVISOR, None), ())
    # Reading plans is needed: a viewer is told nothing.
    assert not told(person(Role.VIEWER, None), ("talant",))


def test_the_role_table_for_plans() -> None:
    def can(role: Role, permission: Permission) -> bool:
        return person(role, None).can(permission)

    assert can(Role.SUPERVISOR, Permission.PLAN_WRITE)
    assert not can(Role.OPERATOR, Permission.PLAN_WRITE)
    assert can(Role.OPERATOR, Permission.PLAN_RUN)
    assert not can(Role.POLICE, Permission.PLAN_RUN)
    assert can(Role.AUDITOR, Permission.PLAN_READ)
    assert not can(Role.VIEWER, Permission.PLAN_READ)
    # Approving a run is a supervisor's (command:approve), never an administrator's alone.
    assert not can(Role.ADMIN, Permission.COMMAND_APPROVE)
