"""Road situations without a database: geometry checks, the communes a line crosses,
the lifecycle's clock, and the text proposed for message signs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from beffroi.communes.queries import Place
from beffroi.console import stream
from beffroi.console.stream import Viewer
from beffroi.core.errors import InvalidInput
from beffroi.core.principal import ActorKind, Principal, Role
from beffroi.roads import geometry, templates
from beffroi.roads.events import SituationChanged
from beffroi.roads.geometry import AREAS, LINES, Metric
from beffroi.roads.places import nearest_codes
from beffroi.roads.situation import IncidentKind, SituationType, Status, due_status

PARIS = ZoneInfo("Europe/Paris")
CENTRES = [
    Place("talant", "Talant", 47.337, 5.005, 11500),
    Place("dijon", "Dijon", 47.322, 5.041, 159000),
    Place("chenove", "Chenôve", 47.292, 5.006, 14000),
]
BOUNDS = geometry.bounds_around((p.lon, p.lat) for p in CENTRES)


def line(*points: tuple[float, float]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [list(p) for p in points]}


def parse(data: Any) -> Any:
    return geometry.parse(data, "geometry", LINES | AREAS, BOUNDS)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "Point", "coordinates": [5.0, 47.3]}, "expected a GeoJSON"),
        (line((5.0, 47.33)), "not valid GeoJSON"),
        (line((5.0, 47.33), (5.0, 47.33)), "two distinct points"),
        (line((2.35, 48.85), (2.36, 48.86)), "outside the metropolis"),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[5.0, 47.3], [5.01, 47.31], [5.01, 47.3], [5.0, 47.31], [5.0, 47.3]]
                ],
            },
            "invalid (self-intersecting?)",
        ),
        ({"type": "LineString", "coordinates": "nope"}, "not valid GeoJSON"),
        (line((float("nan"), 47.33), (5.0, 47.34)), "finite numbers"),
    ],
)
def test_bad_geometries_are_refused_naming_the_field(data: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(data)
    [error] = caught.value.errors
    assert error.field == "geometry"
    assert message in error.message


def test_a_line_crossing_communes_belongs_to_each() -> None:
    inside_talant = parse(line((5.000, 47.336), (5.010, 47.338)))
    assert nearest_codes(inside_talant, CENTRES) == ("talant",)
    # From Talant's centre to Dijon's: samples along the way fall in both.
    across = parse(line((5.005, 47.337), (5.041, 47.322)))
    assert nearest_codes(across, CENTRES) == ("dijon", "talant")
    # An area: its outline and an inner point.
    square = parse(
        {
            "type": "Polygon",
            "coordinates": [
                [[5.0, 47.29], [5.012, 47.29], [5.012, 47.295], [5.0, 47.295], [5.0, 47.29]]
            ],
        }
    )
    assert nearest_codes(square, CENTRES) == ("chenove",)


def test_distances_are_in_metres() -> None:
    # 0.01° of latitude is about 1112 m; a point inside an area is at 0 m from it.
    metric = Metric(parse(line((5.0, 47.30), (5.02, 47.30))))
    assert metric.distance_m(5.01, 47.31) == pytest.approx(1112, rel=0.01)
    area = Metric(
        parse(
            {
                "type": "Polygon",
                "coordinates": [[[5.0, 47.29], [5.01, 47.29], [5.01, 47.3], [5.0, 47.29]]],
            }
        )
    )
    assert area.distance_m(5.008, 47.292) == 0
    assert metric.distances_m([(5.01, 47.31), (5.01, 47.30)]) == pytest.approx([1112, 0], abs=12)


def test_the_clock_moves_a_situation_through_its_period() -> None:
    start = datetime(2026, 3, 1, 8, tzinfo=UTC)
    end = start + timedelta(hours=10)
    assert due_status(start, end, start - timedelta(seconds=1)) is Status.PLANNED
    assert due_status(start, end, start) is Status.ACTIVE
    assert due_status(start, end, end) is Status.ENDED
    assert due_status(start, None, start + timedelta(days=400)) is Status.ACTIVE


def facts(**extra: Any) -> templates.Facts:
    base: dict[str, Any] = {
        "type": SituationType.CLOSURE,
        "road": "Rue de l'Église",
        "starts_at": datetime(2026, 3, 2, 7, tzinfo=UTC),
        "ends_at": datetime(2026, 3, 6, 17, tzinfo=UTC),
        "detour": True,
    }
    return templates.Facts(**{**base, **extra})


def test_a_closure_is_proposed_line_by_line_for_the_signs_size() -> None:
    three = templates.propose(facts(), 3, 16, PARIS)
    assert three == ["RUE DE L'EGLISE", "FERMEE", "SUIVRE DEVIATION"]
    four = templates.propose(facts(), 4, 20, PARIS)
    assert four == ["RUE DE L'EGLISE", "FERMEE", "SUIVRE DEVIATION", "DU 02/03 AU 06/03"]
    # A narrow sign: the road's name wraps on words, the rest follows while lines last.
    assert templates.propose(facts(), 3, 10, PARIS) == ["RUE DE", "L'EGLISE", "FERMEE"]
    # A pattern too long for the lines left is left out whole, never cut.
    assert templates.propose(facts(detour=False), 3, 16, PARIS) == ["RUE DE L'EGLISE", "FERMEE"]
    for lines, width in ((1, 8), (2, 12), (8, 64)):
        text = templates.joined(templates.propose(facts(), lines, width, PARIS))
        assert templates.fits(text, lines, width) == []


def test_each_kind_says_what_it_is_and_its_impact() -> None:
    incident = facts(
        type=SituationType.INCIDENT,
        incident=IncidentKind.ACCIDENT,
        road="A38",
        ends_at=None,
        lanes_closed=1,
        detour=False,
    )
    assert templates.propose(incident, 3, 16, PARIS) == ["ACCIDENT", "A38", "1 VOIE FERMEE"]
    works = facts(
        type=SituationType.ROADWORKS,
        road="Bd Voltaire",
        speed_limit_kmh=30,
        detour=False,
        # Same local day: hours rather than dates (08:00 and 12:00 in Paris).
        ends_at=datetime(2026, 3, 2, 11, tzinfo=UTC),
    )
    assert templates.propose(works, 3, 20, PARIS) == [
        "TRAVAUX BD VOLTAIRE",
        "VITESSE LIMITEE 30",
        "LE 02/03 08H-12H",
    ]


def test_a_text_that_does_not_fit_says_why() -> None:
    assert templates.fits("ROUTE BARREE\nDEVIATION", 2, 12) == []
    assert templates.fits("A\nB\nC", 2, 12) == ["3 lines; the sign has 2"]
    assert templates.fits("TROP LONGUE LIGNE", 2, 12) == [
        "line 1 has 17 characters; the sign shows 12"
    ]
    assert templates.fits(" ", 2, 12) == ["the text is empty"]


def test_the_live_stream_tells_whoever_sees_a_commune_it_crosses() -> None:
    def viewer(communes: frozenset[str] | None) -> Viewer:
        person = Principal("p", ActorKind.USER, frozenset({Role.VIEWER}), communes=communes)
        return Viewer(person, cast("Any", None), set())

    now = datetime(2026, 3, 1, tzinfo=UTC)
    across = SituationChanged(1, "active", "created", now, ("chenove", "talant"))
    chenove = SituationChanged(2, "active", "created", now, ("chenove",))
    assert [
        e.situation_id for e in (across, chenove) if viewer(frozenset({"talant"})).admits(e)
    ] == [1]
    assert [e.situation_id for e in (across, chenove) if viewer(None).admits(e)] == [1, 2]
    assert stream.encode(chenove) == {"kind": "road_situation", "id": 2, "status": "active"}
