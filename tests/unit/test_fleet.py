"""The synthetic fleet generator: deterministic, to scale, and valid for the registry."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import pytest

from beffroi.assets.models import ASSET_ID_PATTERN
from beffroi.assets.schemas import AssetCreate
from beffroi.catalogue import CATALOGUE
from beffroi.core.errors import InvalidInput
from beffroi.simulator.fleet import PROFILES, apportion, fleet_counts, generate_fleet
from beffroi.simulator.fleet_communes import CommuneRow, commune_abbreviations, load_communes


@pytest.fixture(scope="module")
def fleet() -> list[AssetCreate]:
    """The full Dijon fleet, generated once for the module (about a second)."""
    return list(generate_fleet())


@pytest.fixture(scope="module")
def communes() -> list[CommuneRow]:
    return load_communes()


def metres(a: Sequence[float], b: Sequence[float]) -> float:
    """Distance between two (lon, lat) points; flat-earth is plenty at city scale."""
    north = (a[1] - b[1]) * 111_320
    east = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    return math.hypot(east, north)


def test_same_seed_gives_the_same_fleet() -> None:
    assert list(generate_fleet(scale=0.05, seed=3)) == list(generate_fleet(scale=0.05, seed=3))


def test_another_seed_gives_another_fleet() -> None:
    first = list(generate_fleet(scale=0.05, seed=3))
    second = list(generate_fleet(scale=0.05, seed=4))
    assert [a.location for a in first] != [a.location for a in second]


def test_counts_at_scale_one_match_the_reference_deployment(fleet: list[AssetCreate]) -> None:
    counts = Counter(a.type for a in fleet)
    for type_key, target in PROFILES["dijon"].items():
        assert abs(counts[type_key] - target) <= 0.03 * target, type_key


def test_cabinets_feed_twenty_to_thirty_lights(fleet: list[AssetCreate]) -> None:
    loads = Counter(a.parent_id for a in fleet if a.type == "streetlight")
    assert 20 <= sum(loads.values()) / len(loads) <= 30
    assert min(loads.values()) >= 15
    assert max(loads.values()) <= 32


def test_small_scale_keeps_at_least_one_of_each_type() -> None:
    counts = Counter(a.type for a in generate_fleet(scale=0.01))
    assert set(counts) == set(CATALOGUE)
    assert 320 <= counts["streetlight"] <= 360
    assert 13 <= counts["lighting_cabinet"] <= 17


def test_scale_zero_is_an_empty_fleet() -> None:
    assert list(generate_fleet(scale=0)) == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"profile": "atlantis"}, "profile"),
        ({"scale": -1.0}, "scale"),
        ({"scale": math.nan}, "scale"),
        ({"communes": []}, "communes"),
    ],
)
def test_bad_arguments_are_named_at_once(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        generate_fleet(**kwargs)  # type: ignore[arg-type]
    assert [e.field for e in caught.value.errors] == [field]


def test_every_streetlight_hangs_off_a_nearby_cabinet_of_its_commune(
    fleet: list[AssetCreate],
) -> None:
    by_id = {a.id: a for a in fleet}
    for light in (a for a in fleet if a.type == "streetlight"):
        assert light.parent_id is not None
        cabinet = by_id[light.parent_id]
        assert cabinet.type == "lighting_cabinet"
        assert cabinet.commune == light.commune
        assert metres(light.location.coordinates, cabinet.location.coordinates) <= 300


def test_parents_come_before_their_children(fleet: list[AssetCreate]) -> None:
    seen: set[str] = set()
    for asset in fleet:
        assert asset.parent_id is None or asset.parent_id in seen, asset.id
        seen.add(asset.id)


def test_some_counters_report_through_a_controller_of_their_commune(
    fleet: list[AssetCreate],
) -> None:
    by_id = {a.id: a for a in fleet}
    counters = [a for a in fleet if a.type == "traffic_counter"]
    children = [c for c in counters if c.parent_id is not None]
    assert 0.3 * len(counters) <= len(children) <= 0.7 * len(counters)
    for counter in children:
        assert counter.parent_id is not None
        parent = by_id[counter.parent_id]
        assert parent.type in CATALOGUE["traffic_counter"].parent_types
        assert parent.commune == counter.commune


def test_every_asset_is_valid_for_the_catalogue(fleet: list[AssetCreate]) -> None:
    # Light fittings repeat a few hundred combinations: check each distinct one once.
    distinct = {(a.type, tuple(sorted(a.attributes.items()))): a for a in fleet}
    for (type_key, _), asset in distinct.items():
        assert CATALOGUE.attribute_errors(type_key, asset.attributes) == [], asset.id
    for asset in fleet:
        assert asset.parent_id is None or CATALOGUE[asset.type].parent_types


def test_ids_are_unique_and_topic_safe(fleet: list[AssetCreate]) -> None:
    ids = [a.id for a in fleet]
    assert len(set(ids)) == len(ids)
    pattern = re.compile(ASSET_ID_PATTERN)
    assert all(pattern.match(i) for i in ids)
    assert "SL-TAL-00042" in ids
    assert "TC-DIJ-001" in ids


def test_names_and_details_read_like_a_real_inventory(fleet: list[AssetCreate]) -> None:
    by_id = {a.id: a for a in fleet}
    assert by_id["SL-TAL-00042"].name == "Point lumineux 42, Talant"
    for asset in fleet[:: len(fleet) // 200]:
        assert asset.manufacturer
        assert asset.model
        assert asset.installed_on is not None
        assert 2010 <= asset.installed_on.year <= 2025


def test_streetlights_follow_population(
    fleet: list[AssetCreate], communes: list[CommuneRow]
) -> None:
    lights = Counter(a.commune for a in fleet if a.type == "streetlight")
    total_lights = sum(lights.values())
    population = sum(c.population for c in communes)
    for commune in communes:
        expected = total_lights * commune.population / population
        assert abs(lights[commune.code] - expected) <= max(30, 0.1 * expected), commune.code


def test_traffic_equipment_gathers_in_dijon(fleet: list[AssetCreate]) -> None:
    for type_key in ("traffic_controller", "camera", "bollard"):
        of_type = [a for a in fleet if a.type == type_key]
        in_dijon = sum(a.commune == "dijon" for a in of_type)
        assert in_dijon > 0.6 * len(of_type), type_key


def test_equipment_stays_around_its_commune(
    fleet: list[AssetCreate], communes: list[CommuneRow]
) -> None:
    centres = {c.code: (c.lon, c.lat) for c in communes}
    for asset in fleet:
        assert metres(asset.location.coordinates, centres[asset.commune]) < 8_000, asset.id


def test_abbreviations_are_unique_three_letter_codes(communes: list[CommuneRow]) -> None:
    abbreviations = commune_abbreviations(communes)
    assert set(abbreviations) == {c.code for c in communes}
    assert len(set(abbreviations.values())) == len(communes)
    assert all(re.fullmatch(r"[A-Z0-9]{3}", a) for a in abbreviations.values())
    assert abbreviations["dijon"] == "DIJ"
    assert abbreviations["talant"] == "TAL"


def test_abbreviations_survive_clashing_and_short_names() -> None:
    rows = [CommuneRow(f"a{i}" if i else "a", "A", 47.0, 5.0, 10) for i in range(5)]
    abbreviations = commune_abbreviations(rows)
    assert len(set(abbreviations.values())) == 5


def test_communes_can_be_given() -> None:
    towns = [
        CommuneRow("bourg", "Bourg", 46.2, 5.22, 40_000),
        CommuneRow("hameau", "Hameau", 46.25, 5.3, 400),
    ]
    fleet = list(generate_fleet(scale=0.02, seed=5, communes=towns))
    assert {a.commune for a in fleet} <= {"bourg", "hameau"}
    assert all(a.id.split("-")[1] in {"BOU", "HAM"} for a in fleet)


def test_default_communes_are_the_packaged_metropolis(communes: list[CommuneRow]) -> None:
    assert len(communes) == 23
    assert {"dijon", "chenove", "talant"} <= {c.code for c in communes}


def test_fleet_counts_scale_and_round() -> None:
    counts = fleet_counts("dijon", 0.5)
    assert counts["streetlight"] == 17_000
    assert counts["air_quality_station"] == 5
    assert fleet_counts("dijon", 0.0001)["car_park"] == 1


def test_apportion_is_exact_and_proportional() -> None:
    assert apportion(10, [1, 1, 2]) == [3, 2, 5]
    assert apportion(7, [0, 0]) == [4, 3]
    assert apportion(0, [1, 2]) == [0, 0]
    shares = apportion(1000, [0.1, 0.7, 0.2])
    assert sum(shares) == 1000
    assert shares == [100, 700, 200]
