"""Which assignment applies to a cabinet: the most specific wins.

cabinet > group > polygon > commune > the metropolis-wide default. Among several groups
holding a cabinet, or several polygons around it, the most recent assignment wins. Pure:
the assignments and the groups' members are read beforehand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shapely import contains_xy
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from beffroi.lighting.schemas import TargetKind


@dataclass(frozen=True, slots=True)
class Assigned:
    """An assignment, as resolution needs it."""

    id: int
    calendar_id: int
    target: TargetKind
    cabinet_id: str | None
    group_id: int | None
    commune: str | None
    polygon: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Placed:
    """A cabinet (or a light without one): where it is."""

    id: str
    commune: str
    lon: float
    lat: float


class Resolver:
    """Answers "which assignment applies here" for many cabinets from one reading."""

    def __init__(self, assignments: Sequence[Assigned], members: Mapping[int, set[str]]) -> None:
        newest_first = sorted(assignments, key=lambda a: a.id, reverse=True)
        self._cabinet = {a.cabinet_id: a for a in newest_first if a.target is TargetKind.CABINET}
        self._groups = [
            (a, members.get(a.group_id or 0, set()))
            for a in newest_first
            if a.target is TargetKind.GROUP
        ]
        self._polygons: list[tuple[Assigned, BaseGeometry]] = [
            (a, shape(a.polygon))
            for a in newest_first
            if a.target is TargetKind.POLYGON and a.polygon
        ]
        self._commune = {a.commune: a for a in newest_first if a.target is TargetKind.COMMUNE}
        self._default = next((a for a in newest_first if a.target is TargetKind.DEFAULT), None)

    def for_(self, place: Placed) -> Assigned | None:
        """The assignment that applies to ``place``, or None."""
        if place.id in self._cabinet:
            return self._cabinet[place.id]
        for assigned, ids in self._groups:
            if place.id in ids:
                return assigned
        for assigned, area in self._polygons:
            if assigned.commune not in (None, place.commune):
                continue
            if bool(contains_xy(area, place.lon, place.lat)):
                return assigned
        return self._commune.get(place.commune, self._default)
