"""What a signed-in person may do, told to the console from the rules the services apply.

The console shows a tab, a button or a command only when this says so; it never decides
from role names of its own. Everything here comes from the same functions the services
call on every request (:class:`Principal`'s permissions and domains, the catalogue's
command rights).
"""

from __future__ import annotations

from dataclasses import dataclass

from beffroi.catalogue import rights
from beffroi.core.principal import Principal


@dataclass(frozen=True, slots=True)
class Abilities:
    """A principal's permissions, the equipment domains it acts in, and the commands it may
    send by equipment type."""

    permissions: list[str]
    work_domains: list[str]
    commands: dict[str, list[str]]


def abilities_of(principal: Principal) -> Abilities:
    """What ``principal`` may do, as ``GET /api/v1/auth/me`` reports it."""
    return Abilities(
        permissions=sorted(p.value for p in principal.permissions),
        work_domains=sorted(d.value for d in principal.work_domains),
        commands=rights.sendable(principal),
    )
