"""The text a message sign is proposed for a road situation: declared per situation
type, fitted to the sign's lines and width.

A template is an ordered list of line patterns, the most important first; a pattern
whose fields are empty is skipped, a line too wide is wrapped on words, and patterns are
taken whole while the sign has lines left for them. Signs are written in capitals
without accents: many signs' fonts have no accented capitals, and capitals read farther.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from beffroi.roads.situation import IncidentKind, SituationType

TEMPLATES: Mapping[SituationType, tuple[str, ...]] = {
    SituationType.ROADWORKS: ("TRAVAUX {road}", "{impact}", "{detour}", "{period}"),
    SituationType.CLOSURE: ("{road}", "FERMEE", "{detour}", "{period}"),
    SituationType.EVENT: ("EVENEMENT {road}", "{impact}", "{detour}", "{period}"),
    SituationType.INCIDENT: ("{incident}", "{road}", "{impact}", "{detour}"),
}
INCIDENT_WORDS: Mapping[IncidentKind, str] = {
    IncidentKind.ACCIDENT: "ACCIDENT",
    IncidentKind.BROKEN_DOWN_VEHICLE: "VEHICULE EN PANNE",
    IncidentKind.OBSTRUCTION: "OBSTACLE SUR LA VOIE",
    IncidentKind.FLOODING: "INONDATION",
    IncidentKind.OTHER: "INCIDENT",
}


@dataclass(frozen=True, slots=True)
class Facts:
    """What a template may say of a situation."""

    type: SituationType
    road: str
    starts_at: datetime
    ends_at: datetime | None
    incident: IncidentKind | None = None
    road_closed: bool = False
    lanes_closed: int | None = None
    speed_limit_kmh: int | None = None
    delay_min: int | None = None
    detour: bool = False


def sign_case(text: str) -> str:
    """Capitals without accents, single spaces ("Rue de l'Église" -> "RUE DE L'EGLISE")."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(plain.upper().split())


def _impact(facts: Facts) -> str:
    if facts.road_closed and facts.type is not SituationType.CLOSURE:
        return "ROUTE FERMEE"
    if facts.lanes_closed:
        return (
            f"{facts.lanes_closed} VOIE FERMEE"
            if facts.lanes_closed == 1
            else (f"{facts.lanes_closed} VOIES FERMEES")
        )
    if facts.speed_limit_kmh:
        return f"VITESSE LIMITEE {facts.speed_limit_kmh}"
    if facts.delay_min:
        return f"RETARD {facts.delay_min} MIN"
    return ""


def _period(facts: Facts, zone: ZoneInfo) -> str:
    start = facts.starts_at.astimezone(zone)
    if facts.ends_at is None:
        return f"DEPUIS LE {start:%d/%m}"
    end = facts.ends_at.astimezone(zone)
    if start.date() == end.date():
        return f"LE {start:%d/%m} {start:%H}H-{end:%H}H"
    return f"DU {start:%d/%m} AU {end:%d/%m}"


def fields_of(facts: Facts, zone: ZoneInfo) -> dict[str, str]:
    """The values a template's patterns name."""
    return {
        "road": facts.road,
        "impact": _impact(facts),
        "detour": "SUIVRE DEVIATION" if facts.detour else "",
        "period": _period(facts, zone),
        "incident": INCIDENT_WORDS[facts.incident or IncidentKind.OTHER],
    }


def propose(facts: Facts, lines: int, width: int, zone: ZoneInfo) -> list[str]:
    """The lines proposed for a sign of ``lines`` lines of ``width`` characters."""
    values = fields_of(facts, zone)
    out: list[str] = []
    for pattern in TEMPLATES[facts.type]:
        text = sign_case(pattern.format(**values))
        if not text:
            continue
        wrapped = textwrap.wrap(text, width=width, break_long_words=True)
        # A pattern is shown whole or not at all: half a period misleads.
        if len(out) + len(wrapped) <= lines:
            out.extend(wrapped)
    return out


def fits(text: str, lines: int, width: int) -> list[str]:
    """What is wrong with a text for a sign of ``lines`` lines of ``width`` characters
    (lines separated by newlines); empty when it fits."""
    rows = text.split("\n")
    problems = []
    if not text.strip():
        problems.append("the text is empty")
    if len(rows) > lines:
        problems.append(f"{len(rows)} lines; the sign has {lines}")
    problems.extend(
        f"line {i + 1} has {len(row)} characters; the sign shows {width}"
        for i, row in enumerate(rows)
        if len(row) > width
    )
    return problems


def joined(rows: Sequence[str]) -> str:
    """The lines as one text, as the sign's ``display`` command carries it."""
    return "\n".join(rows)
