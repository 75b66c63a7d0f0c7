"""The kinds of equipment of a synthetic fleet: how each is numbered, who makes it, and
attributes drawn at random, valid against the catalogue schemas."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

Attributes = dict[str, Any]

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
class Kind:
    """How one type of equipment is named, spread and described."""

    prefix: str
    digits: int
    urban: bool
    makers: tuple[tuple[str, str], ...]


KINDS: Final[dict[str, Kind]] = {
    "vehicle": Kind(
        "VEH",
        3,
        urban=False,
        makers=(("Renault Trucks", "D Wide"), ("Iveco", "Eurocargo"), ("Renault", "Kangoo")),
    ),
    "lighting_cabinet": Kind(
        "LC",
        4,
        urban=False,
        makers=(("Schneider Electric", "Prisma G"), ("Legrand", "XL3 400"), ("Hager", "Quadro+")),
    ),
    "streetlight": Kind(
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
    "traffic_controller": Kind(
        "TC",
        3,
        urban=True,
        makers=(("Lacroix City", "Smartway C30"), ("Aximum", "Maestro"), ("Fareco", "Mosaic")),
    ),
    "traffic_counter": Kind(
        "CNT",
        3,
        urban=True,
        makers=(("Eco-Counter", "Zelt"), ("Sensys Networks", "FlexMag"), ("Miovision", "Scout")),
    ),
    "camera": Kind(
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
    "bollard": Kind(
        "BOL", 3, urban=True, makers=(("Urbaco", "Automatic 275"), ("Pilomat", "275/P-800A"))
    ),
    "message_sign": Kind(
        "VMS", 3, urban=True, makers=(("Lacroix City", "PMV 3L"), ("Aximum", "Messidor"))
    ),
    "car_park": Kind(
        "PK", 2, urban=True, makers=(("Skidata", "Power.Gate"), ("Amano", "Xparc Guidance"))
    ),
    "air_quality_station": Kind(
        "AQ", 2, urban=True, makers=(("Envea", "Cairsens"), ("Teledyne API", "T200"))
    ),
}


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


# The high-pressure sodium lamps (W) the LED fittings of each power replaced.
FORMER_SODIUM_W: Final = {20: 70, 30: 70, 40: 100, 55: 150, 75: 150, 100: 250, 150: 250}
# Magnetic ballasts drew about 12% on top of the lamp.
BALLAST = 1.12


def streetlight_attributes(rng: random.Random, circuits: int) -> Attributes:
    """A light point's fitting, on one of its cabinet's ``circuits``: an LED that replaced
    a sodium lamp (former power with its ballast, burning all night: about 4,100 h a
    year), and the hours it burnt before Beffroi metered it (installed 0 to 12 years ago)."""
    power, height, _ = rng.choices(LIGHT_FITTINGS, weights=[f[2] for f in LIGHT_FITTINGS])[0]
    return {
        "lamp_type": "LED",
        "rated_power_w": float(power),
        "mounting_height_m": height,
        "circuit": rng.randint(1, circuits),
        "dimmable": True,
        "colour_temperature_k": rng.choices((2700, 3000, 4000), weights=(2, 6, 2))[0],
        "former_power_w": round(FORMER_SODIUM_W[power] * BALLAST, 1),
        "former_burning_hours_per_year": float(rng.randint(3900, 4300)),
        "burning_hours_before_h": float(rng.randint(0, 12 * 4100)),
    }


def cabinet_attributes(rng: random.Random, circuits: int, fittings: list[Attributes]) -> Attributes:
    """A cabinet sized for the ``fittings`` it feeds."""
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


def counter_attributes(rng: random.Random) -> Attributes:
    """A traffic counting station."""
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


# The attributes of stand-alone equipment, by type.
ATTRIBUTE_MAKERS: Final[dict[str, Callable[[random.Random], Attributes]]] = {
    "traffic_controller": _traffic_controller_attributes,
    "traffic_counter": counter_attributes,
    "camera": _camera_attributes,
    "bollard": _bollard_attributes,
    "message_sign": _message_sign_attributes,
    "car_park": _car_park_attributes,
    "air_quality_station": _air_quality_attributes,
}
