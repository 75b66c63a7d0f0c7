"""A deterministic synthetic fleet: the equipment of a metropolis, for demos, simulation and
benchmarks.

The "dijon" profile mirrors the reference deployment (README.md): about 34,000 LED light
points in about 1,500 cabinets, 113 signalised intersections, 269 cameras, 26 bollards and
the sensors around them, spread over the communes in proportion to their population.
The same seed always gives the same fleet: one ``random.Random(seed)`` drives every draw.
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from itertools import combinations, count
from typing import Any, Final

from pyproj import Geod

from beffroi.assets.schemas import AssetCreate, Point
from beffroi.catalogue import CATALOGUE
from beffroi.communes.service import DEFAULT_COMMUNES, slugify
from beffroi.core.errors import FieldError, InvalidInput

Attributes = dict[str, Any]

# Counts at scale 1 by equipment type.
PROFILES: Final[dict[str, dict[str, int]]] = {
    "dijon": {
        "lighting_cabinet": 1500,
        "streetlight": 34_000,
        "traffic_controller": 113,
        "traffic_counter": 200,
        "camera": 269,
        "bollard": 26,
        "message_sign": 40,
        "car_park": 12,
        "air_quality_station": 10,
    }
}

GEOD: Final = Geod(ellps="WGS84")
LIGHT_RADIUS_M: Final = 250.0  # a cabinet feeds the streets around it
COUNTER_RADIUS_M: Final = 150.0  # a counter's loops sit on the approaches of its intersection
COUNTER_PARENT_SHARE: Final = 0.5  # the others are stand-alone counting stations
# Traffic, video and road equipment gathers in the dense centres (Dijon above all), so its
# share grows faster than population.
URBAN_EXPONENT: Final = 1.5
FIRST_INSTALL: Final = date(2010, 1, 1).toordinal()
LAST_INSTALL: Final = date(2025, 12, 31).toordinal()
# Standard French low-voltage supply contracts (kVA), smallest first.
CONTRACT_KVA: Final = (3.0, 6.0, 9.0, 12.0, 18.0, 24.0, 36.0)
STREETS: Final = (
    "Rue de la Liberté",
    "Avenue Jean Jaurès",
    "Boulevard Carnot",
    "Rue Victor Hugo",
    "Avenue du Drapeau",
    "Rue d'Auxonne",
    "Avenue de Langres",
    "Boulevard de la Trémouille",
    "Rue Monge",
    "Avenue du Général de Gaulle",
    "Rue Jean Moulin",
    "Rue Pasteur",
    "Route de Dijon",
    "Rue de la République",
    "Rue des Écoles",
    "Avenue de la Gare",
    "Rue du Moulin",
    "Boulevard de Strasbourg",
    "Rue de l'Église",
    "Avenue Roland Carraz",
)


@dataclass(frozen=True, slots=True)
class CommuneRow:
    """A commune as the generator needs it: where its centre is and how many live there."""

    code: str
    name: str
    lat: float
    lon: float
    population: int


@dataclass(frozen=True, slots=True)
class _Kind:
    """How one type of equipment is named, spread and described."""

    prefix: str
    digits: int
    urban: bool
    makers: tuple[tuple[str, str], ...]


KINDS: Final[dict[str, _Kind]] = {
    "lighting_cabinet": _Kind(
        "LC",
        4,
        urban=False,
        makers=(("Schneider Electric", "Prisma G"), ("Legrand", "XL3 400"), ("Hager", "Quadro+")),
    ),
    "streetlight": _Kind(
        "SL",
        5,
        urban=False,
        makers=(
            ("Signify", "Luma gen2"),
            ("Signify", "ClearWay gen2"),
            ("Schréder", "Teceo"),
            ("Schréder", "Izylum"),
            ("Thorn", "R2S"),
            ("Comatelec", "Ampera"),
        ),
    ),
    "traffic_controller": _Kind(
        "TC",
        3,
        urban=True,
        makers=(("Lacroix City", "Smartway C30"), ("Aximum", "Maestro"), ("Fareco", "Mosaic")),
    ),
    "traffic_counter": _Kind(
        "CNT",
        3,
        urban=True,
        makers=(("Eco-Counter", "Zelt"), ("Sensys Networks", "FlexMag"), ("Miovision", "Scout")),
    ),
    "camera": _Kind(
        "CAM",
        4,
        urban=True,
        makers=(
            ("Axis", "Q6135-LE"),
            ("Axis", "P3818-PVE"),
            ("Bosch", "AUTODOME IP 5000i"),
            ("Hanwha Vision", "XNP-6400RW"),
        ),
    ),
    "bollard": _Kind(
        "BOL", 3, urban=True, makers=(("Urbaco", "Automatic 275"), ("Pilomat", "275/P-800A"))
    ),
    "message_sign": _Kind(
        "VMS", 3, urban=True, makers=(("Lacroix City", "PMV 3L"), ("Aximum", "Messidor"))
    ),
    "car_park": _Kind(
        "PK", 2, urban=True, makers=(("Skidata", "Power.Gate"), ("Amano", "Xparc Guidance"))
    ),
    "air_quality_station": _Kind(
        "AQ", 2, urban=True, makers=(("Envea", "Cairsens"), ("Teledyne API", "T200"))
    ),
}

# --- communes ---------------------------------------------------------------------------


def load_communes(text: str | None = None) -> list[CommuneRow]:
    """Communes from a CSV (name, lat, lon, population); the packaged Dijon file by default."""
    if text is None:
        text = resources.files("beffroi.data").joinpath(DEFAULT_COMMUNES).read_text("utf-8")
    return [
        CommuneRow(
            code=slugify(row["name"]),
            name=row["name"],
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            population=int(row.get("population") or 0),
        )
        for row in csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    ]


def commune_abbreviations(communes: Sequence[CommuneRow]) -> dict[str, str]:
    """A unique three-character upper-case abbreviation per commune code, for asset ids.

    The most populous communes choose first, so the main town gets the obvious one ("DIJ").
    """
    taken: set[str] = set()
    out: dict[str, str] = {}
    for commune in sorted(communes, key=lambda c: (-c.population, c.code)):
        if commune.code in out:
            continue
        letters = re.sub(r"[^A-Z0-9]", "", commune.code.upper()) or "X"
        abbreviation = next(a for a in _abbreviation_candidates(letters) if a not in taken)
        taken.add(abbreviation)
        out[commune.code] = abbreviation
    return out


def _abbreviation_candidates(letters: str) -> Iterator[str]:
    """First three letters, then the first letter with two later ones, then numbered."""
    yield (letters + "XX")[:3]
    for i, j in combinations(range(1, len(letters)), 2):
        yield letters[0] + letters[i] + letters[j]
    for n in count():
        yield f"{letters[0]}{n:02d}"


# --- counts -----------------------------------------------------------------------------


def fleet_counts(profile: str = "dijon", scale: float = 1.0) -> dict[str, int]:
    """How many of each type a profile has at a scale: at least one of each when scale > 0."""
    if profile not in PROFILES:
        known = ", ".join(sorted(PROFILES))
        raise InvalidInput(FieldError("profile", f"unknown profile {profile!r}; known: {known}"))
    if not math.isfinite(scale) or scale < 0:
        raise InvalidInput(FieldError("scale", f"expected a number >= 0, not {scale!r}"))
    return {
        type_key: max(1, round(n * scale)) if scale > 0 else 0
        for type_key, n in PROFILES[profile].items()
    }


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into whole shares proportional to ``weights`` (largest remainder).

    Ties go to the earlier weight, so the split is deterministic.
    """
    if total <= 0 or not weights:
        return [0] * len(weights)
    mass = sum(weights)
    if mass <= 0:
        weights, mass = [1.0] * len(weights), float(len(weights))
    exact = [total * w / mass for w in weights]
    shares = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (shares[i] - exact[i], i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


# --- generation -------------------------------------------------------------------------


def generate_fleet(
    profile: str = "dijon",
    scale: float = 1.0,
    seed: int = 1,
    communes: Sequence[CommuneRow] | None = None,
) -> Iterator[AssetCreate]:
    """The synthetic fleet of a profile, parents before their children.

    Streetlights hang off lighting cabinets of their commune; some traffic counters hang
    off a traffic controller. The same arguments always give the same fleet. Bad arguments
    raise :class:`InvalidInput` at once, before anything is generated.
    """
    counts = fleet_counts(profile, scale)
    rows = list(communes) if communes is not None else load_communes()
    if not rows:
        raise InvalidInput(FieldError("communes", "at least one commune is needed"))
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not secrets
    return _FleetBuilder(rng, rows).build(counts)


class _FleetBuilder:
    """The state of one generation: the random stream and the numbering per commune."""

    def __init__(self, rng: random.Random, communes: list[CommuneRow]) -> None:
        self.rng = rng
        self.communes = communes
        self.abbreviations = commune_abbreviations(communes)
        self.numbers: dict[tuple[str, str], int] = defaultdict(int)

    def build(self, counts: dict[str, int]) -> Iterator[AssetCreate]:
        """Every asset, lighting first, then traffic (controllers before counters)."""
        yield from self.lighting(counts["lighting_cabinet"], counts["streetlight"])
        controllers: dict[str, list[AssetCreate]] = defaultdict(list)
        for controller in self.scattered("traffic_controller", counts["traffic_controller"]):
            controllers[controller.commune].append(controller)
            yield controller
        yield from self.counters(counts["traffic_counter"], controllers)
        for type_key in ("camera", "bollard", "message_sign", "car_park", "air_quality_station"):
            yield from self.scattered(type_key, counts[type_key])

    # - placement -

    def weights(self, type_key: str) -> list[float]:
        exponent = URBAN_EXPONENT if KINDS[type_key].urban else 1.0
        return [max(c.population, 0) ** exponent for c in self.communes]

    def scatter(self, commune: CommuneRow) -> tuple[float, float]:
        """A gaussian spot around the commune centre, wider for a bigger commune."""
        sigma = 300.0 + 4.0 * math.sqrt(max(commune.population, 0))
        east, north = self.rng.gauss(0.0, sigma), self.rng.gauss(0.0, sigma)
        # Cut the tail so nothing lands in the next département.
        stretch = min(1.0, 3 * sigma / (math.hypot(east, north) or 1.0))
        return _offset(commune.lon, commune.lat, east * stretch, north * stretch)

    def near(self, lon: float, lat: float, radius_m: float) -> tuple[float, float]:
        """A spot spread evenly over the disc of ``radius_m`` around (lon, lat)."""
        distance = radius_m * math.sqrt(self.rng.random())
        angle = self.rng.uniform(0.0, 2 * math.pi)
        return _offset(lon, lat, distance * math.sin(angle), distance * math.cos(angle))

    # - assets -

    def asset(
        self,
        type_key: str,
        commune: CommuneRow,
        position: tuple[float, float],
        attributes: Attributes,
        parent_id: str | None = None,
    ) -> AssetCreate:
        """One asset, numbered in its commune, with a maker and an installation date."""
        kind = KINDS[type_key]
        key = (type_key, commune.code)
        self.numbers[key] += 1
        number = self.numbers[key]
        manufacturer, model = self.rng.choice(kind.makers)
        abbreviation = self.abbreviations[commune.code]
        return AssetCreate(
            id=f"{kind.prefix}-{abbreviation}-{number:0{kind.digits}d}",
            type=type_key,
            name=f"{CATALOGUE[type_key].label_fr} {number}, {commune.name}",
            commune=commune.code,
            location=Point(coordinates=position),
            parent_id=parent_id,
            attributes=attributes,
            manufacturer=manufacturer,
            model=model,
            installed_on=date.fromordinal(self.rng.randint(FIRST_INSTALL, LAST_INSTALL)),
        )

    def lighting(self, cabinets: int, lights: int) -> Iterator[AssetCreate]:
        """Cabinets spread by population, each followed by its 20-30 or so light points."""
        weights = self.weights("lighting_cabinet")
        cabinet_counts = apportion(cabinets, weights)
        # Lights follow population too, but only into communes that got a cabinet to feed
        # them (at small scales most communes get none).
        fed = [w if n else 0.0 for w, n in zip(weights, cabinet_counts, strict=True)]
        if not any(fed):
            fed = [1.0 if n else 0.0 for n in cabinet_counts]
        light_counts = apportion(lights, fed)
        for commune, n_cabinets, n_lights in zip(
            self.communes, cabinet_counts, light_counts, strict=True
        ):
            # Cabinet loads vary by about +-20% around the commune's mean.
            sizes = apportion(n_lights, [self.rng.uniform(0.88, 1.32) for _ in range(n_cabinets)])
            for size in sizes:
                yield from self.cabinet_with_lights(commune, size)

    def cabinet_with_lights(self, commune: CommuneRow, size: int) -> Iterator[AssetCreate]:
        """One cabinet, then the ``size`` light points it feeds, spread around it."""
        position = self.scatter(commune)
        circuits = self.rng.randint(2, 6)
        fittings = [_streetlight_attributes(self.rng, circuits) for _ in range(size)]
        equipment = _cabinet_attributes(self.rng, circuits, fittings)
        cabinet = self.asset("lighting_cabinet", commune, position, equipment)
        yield cabinet
        for attributes in fittings:
            spot = self.near(*position, LIGHT_RADIUS_M)
            yield self.asset("streetlight", commune, spot, attributes, cabinet.id)

    def scattered(self, type_key: str, total: int) -> Iterator[AssetCreate]:
        """Stand-alone equipment around commune centres."""
        describe = ATTRIBUTE_MAKERS[type_key]
        for commune, n in zip(self.communes, apportion(total, self.weights(type_key)), strict=True):
            for _ in range(n):
                yield self.asset(type_key, commune, self.scatter(commune), describe(self.rng))

    def counters(
        self, total: int, controllers: dict[str, list[AssetCreate]]
    ) -> Iterator[AssetCreate]:
        """Counting stations; about half sit on an intersection and report through it."""
        weights = self.weights("traffic_counter")
        for commune, n in zip(self.communes, apportion(total, weights), strict=True):
            for _ in range(n):
                attributes = _counter_attributes(self.rng)
                nearby = controllers.get(commune.code)
                if nearby and self.rng.random() < COUNTER_PARENT_SHARE:
                    parent = self.rng.choice(nearby)
                    spot = self.near(*parent.location.coordinates, COUNTER_RADIUS_M)
                    yield self.asset("traffic_counter", commune, spot, attributes, parent.id)
                else:
                    yield self.asset("traffic_counter", commune, self.scatter(commune), attributes)


def _offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    """The point ``east_m`` east and ``north_m`` north of (lon, lat), on the WGS84 ellipsoid."""
    azimuth = math.degrees(math.atan2(east_m, north_m))
    to_lon, to_lat, _ = GEOD.fwd(lon, lat, azimuth, math.hypot(east_m, north_m))
    # Seven decimals is about a centimetre: precise enough, and compact in exports.
    return round(float(to_lon), 7), round(float(to_lat), 7)


# --- attributes (valid against the catalogue schemas) -----------------------------------

# (rated power W, mounting height m, weight): low residential fittings dominate.
LIGHT_FITTINGS: Final = (
    (20, 4.0, 10),
    (30, 5.0, 20),
    (40, 6.0, 25),
    (55, 8.0, 20),
    (75, 8.0, 12),
    (100, 10.0, 8),
    (150, 12.0, 5),
)


def _streetlight_attributes(rng: random.Random, circuits: int) -> Attributes:
    power, height, _ = rng.choices(LIGHT_FITTINGS, weights=[f[2] for f in LIGHT_FITTINGS])[0]
    return {
        "lamp_type": "LED",
        "rated_power_w": float(power),
        "mounting_height_m": height,
        "circuit": rng.randint(1, circuits),
        "dimmable": True,
        "colour_temperature_k": rng.choices((2700, 3000, 4000), weights=(2, 6, 2))[0],
    }


def _cabinet_attributes(
    rng: random.Random, circuits: int, fittings: list[Attributes]
) -> Attributes:
    # Drivers and cabling add about 20% to the lamps' rated power.
    load_kva = 1.2 * sum(f["rated_power_w"] for f in fittings) / 1000
    contract = next((kva for kva in CONTRACT_KVA if kva >= load_kva), CONTRACT_KVA[-1])
    return {
        "circuits": circuits,
        "contract_power_kva": contract,
        "meter_id": str(rng.randrange(10**13, 10**14)),  # a 14-digit delivery point number
        "phases": 3 if len(fittings) > 12 else 1,
    }


def _intersection(rng: random.Random) -> str:
    first, second = rng.sample(STREETS, 2)
    return f"{first} / {second}"


def _traffic_controller_attributes(rng: random.Random) -> Attributes:
    return {
        "intersection": _intersection(rng),
        "plans": rng.randint(2, 8),
        "detectors": rng.randint(0, 12),
        "bus_priority": rng.random() < 0.85,
    }


def _counter_attributes(rng: random.Random) -> Attributes:
    return {"lanes": rng.randint(1, 4), "road": rng.choice(STREETS)}


def _camera_attributes(rng: random.Random) -> Attributes:
    kind = rng.choices(("fixed", "dome", "ptz"), weights=(5, 3, 2))[0]
    return {
        "kind": kind,
        "presets": rng.randint(4, 32) if kind == "ptz" else 0,
        "onvif_profile": rng.choices(("S", "T"), weights=(7, 3))[0],
    }


def _bollard_attributes(rng: random.Random) -> Attributes:
    return {
        "site": rng.choice(STREETS),
        "access": rng.choices(("permanent", "scheduled"), weights=(3, 7))[0],
    }


def _message_sign_attributes(rng: random.Random) -> Attributes:
    return {"lines": rng.choice((2, 3, 4)), "width_chars": rng.choice((16, 18, 20, 24))}


def _car_park_attributes(rng: random.Random) -> Attributes:
    return {
        "capacity": 10 * rng.randint(15, 120),
        "operator": rng.choice(("Indigo", "Effia", "Divia Mobilités")),
    }


def _air_quality_attributes(rng: random.Random) -> Attributes:
    del rng  # every station belongs to the regional network
    return {"network": "Atmo Bourgogne-Franche-Comté"}


ATTRIBUTE_MAKERS: Final[dict[str, Callable[[random.Random], Attributes]]] = {
    "traffic_controller": _traffic_controller_attributes,
    "traffic_counter": _counter_attributes,
    "camera": _camera_attributes,
    "bollard": _bollard_attributes,
    "message_sign": _message_sign_attributes,
    "car_park": _car_park_attributes,
    "air_quality_station": _air_quality_attributes,
}
