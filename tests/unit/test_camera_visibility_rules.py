"""Which equipment exists for whom (catalogue.visibility): cameras only for designated
agents (CSI L252-2) - auditors and administrators, video agents while habilitated."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from beffroi.catalogue import CATALOGUE, Domain
from beffroi.catalogue.visibility import (
    RESTRICTED_TYPES,
    domain_clause,
    hidden_domains,
    hidden_types,
    in_view,
    require_shown,
    shows,
    shows_domain,
    type_clause,
)
from beffroi.core.errors import NotFound
from beffroi.core.principal import ActorKind, Principal, Role
from beffroi.notifications.matching import Entry, Filter, matches


def person(*roles: Role, cleared: bool = False, communes: list[str] | None = None) -> Principal:
    return Principal(
        name="p",
        kind=ActorKind.USER,
        roles=frozenset(roles),
        domains=frozenset(Domain),
        communes=None if communes is None else frozenset(communes),
        user_id=7,
        video_cleared=cleared,
    )


NOBODY = [
    person(Role.VIEWER),
    person(Role.OPERATOR),
    person(Role.SUPERVISOR),
    person(Role.FIELD_AGENT),
    person(Role.VIDEO_AGENT),
    # A habilitation is no matter for a role that may not watch.
    person(Role.OPERATOR, cleared=True),
    person(Role.SUPERVISOR, cleared=True),
]
DESIGNATED = [
    person(Role.VIDEO_AGENT, cleared=True),
    person(Role.AUDITOR),
    person(Role.ADMIN),
    person(Role.VIEWER, Role.AUDITOR),
    Principal.system("scheduler"),
]


def test_the_hidden_types_are_the_catalogues_video_domain() -> None:
    assert {t.key for t in CATALOGUE.values() if t.domain is Domain.VIDEO} == RESTRICTED_TYPES
    assert "camera" in RESTRICTED_TYPES
    assert "streetlight" not in RESTRICTED_TYPES


def test_nobody_but_designated_agents_sees_cameras() -> None:
    for principal in NOBODY:
        assert hidden_types(principal) == RESTRICTED_TYPES, principal.roles
        assert hidden_domains(principal) == {Domain.VIDEO}
        assert not shows(principal, "camera")
        assert not shows_domain(principal, "video")
        assert shows(principal, "streetlight")
        assert shows(principal, None)
        assert shows_domain(principal, "lighting")
        assert shows_domain(principal, None)
    for principal in DESIGNATED:
        assert hidden_types(principal) == frozenset(), principal.roles
        assert shows(principal, "camera")
        assert shows_domain(principal, "video")


def test_in_view_needs_scope_and_type() -> None:
    talant_viewer = person(Role.VIEWER, communes=["talant"])
    talant_auditor = person(Role.AUDITOR, communes=["talant"])
    assert in_view(talant_viewer, "talant", "streetlight")
    assert not in_view(talant_viewer, "talant", "camera")
    assert not in_view(talant_viewer, "chenove", "streetlight")
    assert in_view(talant_auditor, "talant", "camera")
    assert not in_view(talant_auditor, "chenove", "camera")


def test_a_hidden_thing_is_not_found() -> None:
    viewer = person(Role.VIEWER)
    with pytest.raises(NotFound, match="asset 'CAM-1' not found"):
        require_shown(viewer, "camera", "asset 'CAM-1'")
    require_shown(viewer, "streetlight", "asset 'SL-1'")
    require_shown(person(Role.AUDITOR), "camera", "asset 'CAM-1'")


def _rows_kept(principal: Principal) -> list[str | None]:
    """Runs the clauses on an in-memory table of typed rows (one with no type)."""
    metadata = MetaData()
    things = Table(
        "things", metadata, Column("id", String), Column("type", String), Column("domain", String)
    )
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(things),
            [
                {"id": "cam", "type": "camera", "domain": "video"},
                {"id": "light", "type": "streetlight", "domain": "lighting"},
                {"id": "untyped", "type": None, "domain": None},
            ],
        )
        stmt = (
            select(things.c.id)
            .where(type_clause(principal, things.c.type), domain_clause(principal, things.c.domain))
            .order_by(things.c.id)
        )
        return list(connection.execute(stmt).scalars())


def test_the_sql_clauses_keep_what_exists_for_the_principal() -> None:
    assert _rows_kept(person(Role.VIEWER)) == ["light", "untyped"]
    assert _rows_kept(person(Role.VIDEO_AGENT)) == ["light", "untyped"]
    assert _rows_kept(person(Role.VIDEO_AGENT, cleared=True)) == ["cam", "light", "untyped"]
    assert _rows_kept(person(Role.AUDITOR)) == ["cam", "light", "untyped"]


def test_the_clause_costs_nothing_for_who_sees_everything() -> None:
    column = Column("type", String)
    dialects: list[Dialect] = [sqlite.dialect(), postgresql.dialect()]  # type: ignore[no-untyped-call]
    for dialect in dialects:
        shown = type_clause(person(Role.AUDITOR), column).compile(dialect=dialect)
        assert str(shown) in {"1", "true"}, str(shown)
        hidden = str(type_clause(person(Role.VIEWER), column).compile(dialect=dialect))
        assert "NOT IN" in hidden, hidden
        assert "IS NULL" in hidden, hidden


def test_camera_alarms_go_only_where_a_route_names_their_domain() -> None:
    at = datetime(2026, 12, 7, 12, tzinfo=UTC)
    zone = ZoneInfo("Europe/Paris")
    camera = Entry("raised", "critical", "tamper", "talant", "video", at)
    light = Entry("raised", "major", "lampFailure", "talant", "lighting", at)
    assert not matches(Filter(), camera, zone)
    assert matches(Filter(), light, zone)
    assert matches(Filter(domains=["video"]), camera, zone)
    assert not matches(Filter(domains=["lighting"]), camera, zone)
