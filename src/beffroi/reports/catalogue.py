"""What citizens may report: the Open311 services, declared once (as the equipment
catalogue declares the equipment).

Each service says which intervention :class:`Category` and :class:`Priority` a report of
it opens, and the extra questions (Open311 attributes) it asks. ``services.json``,
``services/{code}.json``, the checks of a posted report and the citizen line's form all
read this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from beffroi.interventions.lifecycle import Category, Priority


class Datatype(StrEnum):
    """Open311 attribute datatypes used here."""

    STRING = "string"
    NUMBER = "number"
    SINGLEVALUELIST = "singlevaluelist"


@dataclass(frozen=True, slots=True)
class Attribute:
    """An extra question of a service (Open311 ``attribute[code]``)."""

    code: str
    description: str
    datatype: Datatype = Datatype.STRING
    required: bool = False
    # (key, name) pairs of a list.
    values: tuple[tuple[str, str], ...] = ()
    max_length: int = 200


@dataclass(frozen=True, slots=True)
class Service:
    """A kind of problem a citizen reports."""

    code: str
    name: str
    description: str
    group: str
    category: Category
    priority: Priority
    keywords: tuple[str, ...] = ()
    attributes: tuple[Attribute, ...] = ()

    @property
    def metadata(self) -> bool:
        """Whether the service has attributes (Open311: a definition to fetch)."""
        return bool(self.attributes)


_POLE = Attribute("pole_number", "Number painted on the pole, if you can read it", max_length=40)
_YES_NO = (("yes", "Yes"), ("no", "No"))

SERVICES: tuple[Service, ...] = (
    Service(
        "streetlight-out",
        "Streetlight out",
        "A street lamp that stays off at night, or on in daytime",
        "Lighting",
        Category.LIGHTING,
        Priority.NORMAL,
        ("lamp", "light", "lampadaire", "éclairage"),
        (_POLE,),
    ),
    Service(
        "streetlight-damaged",
        "Damaged streetlight pole",
        "A leaning, knocked-down or open pole (cables may be live: keep away)",
        "Lighting",
        Category.LIGHTING,
        Priority.HIGH,
        ("pole", "candélabre"),
        (_POLE,),
    ),
    Service(
        "traffic-light-fault",
        "Traffic light fault",
        "Signals dark, stuck or flashing at a junction",
        "Traffic",
        Category.TRAFFIC,
        Priority.HIGH,
        ("signal", "feu tricolore"),
        (
            Attribute(
                "all_dark",
                "Are all the signals of the junction dark?",
                Datatype.SINGLEVALUELIST,
                required=True,
                values=_YES_NO,
            ),
        ),
    ),
    Service(
        "bollard-damaged",
        "Damaged bollard",
        "A retractable bollard stuck, damaged or left up",
        "Traffic",
        Category.TRAFFIC,
        Priority.HIGH,
        ("borne", "bollard"),
    ),
    Service(
        "pothole",
        "Pothole",
        "A hole or a broken surface on a road, pavement or cycle path",
        "Roads",
        Category.ROADS,
        Priority.NORMAL,
        ("nid-de-poule", "road", "chaussée"),
        (
            Attribute(
                "size",
                "How large is it?",
                Datatype.SINGLEVALUELIST,
                values=(
                    ("small", "Smaller than a hand"),
                    ("medium", "Up to a wheel"),
                    ("large", "Larger than a wheel"),
                ),
            ),
        ),
    ),
    Service(
        "graffiti",
        "Graffiti",
        "Tags or graffiti on public property",
        "Cleanliness",
        Category.CLEANLINESS,
        Priority.LOW,
        ("tag", "graffiti"),
    ),
    Service(
        "illegal-dumping",
        "Illegal dumping",
        "Waste, bulky items or rubble left on the public space",
        "Cleanliness",
        Category.CLEANLINESS,
        Priority.NORMAL,
        ("dépôt sauvage", "waste", "encombrants"),
    ),
    Service(
        "snow-ice",
        "Snow or ice",
        "A road, pavement or cycle path that is snowed up or icy",
        "Winter",
        Category.SNOW,
        Priority.HIGH,
        ("neige", "verglas", "ice"),
        (
            Attribute(
                "surface",
                "Where?",
                Datatype.SINGLEVALUELIST,
                required=True,
                values=(("road", "Road"), ("pavement", "Pavement"), ("cycle_path", "Cycle path")),
            ),
        ),
    ),
)

BY_CODE: dict[str, Service] = {s.code: s for s in SERVICES}
assert len(BY_CODE) == len(SERVICES), "service codes are unique"


def service(code: str) -> Service | None:
    """The service of a code, if there is one."""
    return BY_CODE.get(code)
