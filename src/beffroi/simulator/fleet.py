"""A deterministic synthetic fleet: the equipment of a metropolis, for demos, simulation and
benchmarks.

The "dijon" profile mirrors the reference deployment (README.md): about 34,000 LED light
points in about 1,500 cabinets, 113 signalised intersections, 269 cameras, 26 bollards and
the sensors around them, spread over the communes in proportion to their population.
The same seed always gives the same fleet: one ``random.Random(seed)`` drives every draw.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Final

from pyproj import Geod

from beffroi.assets.schemas import AssetCreate, Point
from beffroi.catalogue import CATALOGUE
from beffroi.core.errors import FieldError, InvalidInput
from beffroi.simulator.fleet_communes import CommuneRow, commune_abbreviations, load_communes
from beffroi.simulator.fleet_kinds import (
    ATTRIBUTE_MAKERS,
    KINDS,
    Attributes,
    cabinet_attributes,
    counter_attributes,
    streetlight_attributes,
)
from beffroi.simulator.winter import vehicle_attributes

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
        # Salting trucks, patrols and field crews: three in a small commune, more in Dijon.
        "vehicle": 69,
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
        yield from self.vehicles(counts["vehicle"])

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
        fittings = [streetlight_attributes(self.rng, circuits) for _ in range(size)]
        equipment = cabinet_attributes(self.rng, circuits, fittings)
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

    def vehicles(self, total: int) -> Iterator[AssetCreate]:
        """Service vehicles at depots near commune centres, kinds in turn (a commune's
        first is a salting truck)."""
        # Each commune its share by the square root of its population: small ones too.
        weights = [math.sqrt(max(c.population, 0)) for c in self.communes]
        for commune, n in zip(self.communes, apportion(total, weights), strict=True):
            for index in range(n):
                yield self.asset(
                    "vehicle", commune, self.scatter(commune), vehicle_attributes(index)
                )

    def counters(
        self, total: int, controllers: dict[str, list[AssetCreate]]
    ) -> Iterator[AssetCreate]:
        """Counting stations; about half sit on an intersection and report through it."""
        weights = self.weights("traffic_counter")
        for commune, n in zip(self.communes, apportion(total, weights), strict=True):
            for _ in range(n):
                attributes = counter_attributes(self.rng)
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
