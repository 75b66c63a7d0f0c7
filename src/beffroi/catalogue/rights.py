"""Who may send which command of the catalogue: the catalogue's roles per command, and an
operator's domains. The command service checks each request with it; the console is told
from it what to offer (``GET /api/v1/auth/me``)."""

from __future__ import annotations

from beffroi.catalogue.registry import CATALOGUE
from beffroi.catalogue.spec import CommandSpec, EquipmentType
from beffroi.core.principal import Permission, Principal, Role


def may_send(principal: Principal, type_spec: EquipmentType, spec: CommandSpec) -> bool:
    """Whether ``principal`` may send this command: a role the command allows, and for an
    operator the domain of the equipment."""
    if not principal.can(Permission.COMMAND_SEND):
        return False
    for role in principal.roles:
        if role.value not in spec.roles:
            continue
        if role is Role.OPERATOR and type_spec.domain not in principal.domains:
            continue
        return True
    return False


def sendable(principal: Principal) -> dict[str, list[str]]:
    """The commands ``principal`` may send through the command routes, by equipment type
    (types with none left out): what the console offers, decided by :func:`may_send` as
    every request is. Commands kept to video sessions are left out: they are sent within a
    session (``POST /api/v1/video/sessions/{id}/commands``), which the video wall offers."""
    out: dict[str, list[str]] = {}
    for key in CATALOGUE.keys_sorted:
        type_spec = CATALOGUE[key]
        names = [
            c.name
            for c in type_spec.commands
            if not c.in_session and may_send(principal, type_spec, c)
        ]
        if names:
            out[key] = names
    return out
