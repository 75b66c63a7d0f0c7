"""Who is acting, and what they may do: roles, permissions and commune scope.

Every service function receives a :class:`Principal` and checks it itself, so no adapter
(route, CLI command, job) can forget the check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, false, true
from sqlalchemy.orm import InstrumentedAttribute

from beffroi.core.errors import NotFound, PermissionDenied
from beffroi.core.vocabulary import Domain


class Role(StrEnum):
    """The roles of the people who use Beffroi (docs/architecture.md, security model)."""

    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    OPERATOR = "operator"
    FIELD_AGENT = "field_agent"
    VIDEO_AGENT = "video_agent"
    AUDITOR = "auditor"
    VIEWER = "viewer"


class Permission(StrEnum):
    """Things a role may do. Commune scope and domains narrow them further."""

    ASSET_READ = "asset:read"
    ASSET_WRITE = "asset:write"
    GROUP_WRITE = "group:write"
    COMMUNE_WRITE = "commune:write"
    USER_READ = "user:read"
    USER_MANAGE = "user:manage"
    AUDIT_READ = "audit:read"
    TOKEN_OWN = "token:own"
    INGEST_READ = "ingest:read"
    METRICS_READ = "metrics:read"
    COMMAND_READ = "command:read"
    # Sending is narrowed further by the catalogue: roles per command, operator domains.
    COMMAND_SEND = "command:send"
    COMMAND_APPROVE = "command:approve"
    ALARM_READ = "alarm:read"
    # Acknowledge, comment, assign, shelve, clear; an operator only in their domains.
    ALARM_HANDLE = "alarm:handle"
    RULE_WRITE = "rule:write"
    NOTIFICATION_MANAGE = "notification:manage"
    INTERVENTION_READ = "intervention:read"
    # Open, assign, cancel and close work orders.
    INTERVENTION_MANAGE = "intervention:manage"
    # Work one's team's orders in the field: start, hold, resolve, notes and photos.
    INTERVENTION_WORK = "intervention:work"
    TEAM_MANAGE = "team:manage"
    KPI_READ = "kpi:read"
    # Write lighting programs and calendars, assign them, compile the cabinets' schedules.
    LIGHTING_PROGRAM = "lighting:program"
    # Act (send commands, handle alarms) in every equipment domain; without it, only in
    # the domains granted to the account (an operator's).
    DOMAIN_ALL = "domain:all"


_ALL_READ = {Permission.ASSET_READ, Permission.TOKEN_OWN, Permission.ALARM_READ}
_DISPATCH = {
    Permission.ALARM_HANDLE,
    Permission.INTERVENTION_READ,
    Permission.INTERVENTION_MANAGE,
    Permission.INTERVENTION_WORK,
    Permission.KPI_READ,
}

# What a person may do is decided here and nowhere else: services check permissions, never
# role names (the catalogue's per-command roles aside), and the console shows what
# GET /auth/me reports from the same table.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # Separation of duties: the administrator manages accounts and the registry, and is
    # not the second pair of eyes on a critical command unless also made a supervisor.
    Role.ADMIN: frozenset(Permission) - {Permission.COMMAND_APPROVE},
    Role.SUPERVISOR: frozenset(
        _ALL_READ
        | {
            Permission.ASSET_WRITE,
            Permission.GROUP_WRITE,
            Permission.USER_READ,
            Permission.INGEST_READ,
            Permission.COMMAND_READ,
            Permission.COMMAND_SEND,
            Permission.COMMAND_APPROVE,
            Permission.RULE_WRITE,
            Permission.NOTIFICATION_MANAGE,
            Permission.TEAM_MANAGE,
            Permission.LIGHTING_PROGRAM,
            Permission.DOMAIN_ALL,
        }
        | _DISPATCH
    ),
    Role.OPERATOR: frozenset(
        _ALL_READ
        | {Permission.GROUP_WRITE, Permission.COMMAND_READ, Permission.COMMAND_SEND}
        | _DISPATCH
    ),
    Role.FIELD_AGENT: frozenset(
        _ALL_READ
        | {Permission.COMMAND_READ, Permission.INTERVENTION_READ, Permission.INTERVENTION_WORK}
    ),
    Role.VIDEO_AGENT: frozenset(_ALL_READ | {Permission.COMMAND_READ, Permission.COMMAND_SEND}),
    Role.AUDITOR: frozenset(
        _ALL_READ
        | {
            Permission.AUDIT_READ,
            Permission.USER_READ,
            Permission.COMMAND_READ,
            Permission.INTERVENTION_READ,
            Permission.KPI_READ,
        }
    ),
    Role.VIEWER: frozenset(_ALL_READ),
}


def permissions_of(roles: Iterable[Role]) -> frozenset[Permission]:
    """Union of the permissions of ``roles``."""
    out: set[Permission] = set()
    for role in roles:
        out |= ROLE_PERMISSIONS[role]
    return frozenset(out)


class ActorKind(StrEnum):
    """What kind of actor a principal is, as written in the audit log."""

    USER = "user"
    SYSTEM = "system"
    DEVICE = "device"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated actor: a person (by session or token), the system, or a device.

    ``communes`` is ``None`` for metropolis-wide scope, else the commune codes in scope.
    """

    name: str
    kind: ActorKind
    roles: frozenset[Role] = frozenset()
    domains: frozenset[Domain] = frozenset()
    communes: frozenset[str] | None = frozenset()
    user_id: int | None = None
    via: str = ""

    @classmethod
    def system(cls, name: str) -> Principal:
        """The system itself (CLI on the server, scheduler): every permission, every commune."""
        return cls(
            name=name,
            kind=ActorKind.SYSTEM,
            roles=frozenset({Role.ADMIN}),
            domains=frozenset(Domain),
            communes=None,
            via="system",
        )

    @property
    def permissions(self) -> frozenset[Permission]:
        """Union of the permissions of every role held."""
        return permissions_of(self.roles)

    @property
    def all_communes(self) -> bool:
        """True when the scope is the whole metropolis."""
        return self.communes is None

    def can(self, permission: Permission) -> bool:
        """Whether any role held grants ``permission``."""
        return any(permission in ROLE_PERMISSIONS[role] for role in self.roles)

    def require(self, permission: Permission) -> None:
        """Raise :class:`PermissionDenied` unless ``permission`` is granted."""
        if not self.can(permission):
            raise PermissionDenied(f"{self.name} lacks permission {permission.value}")

    def in_domain(self, domain: Domain) -> bool:
        """Whether the principal may act in an equipment domain: all of them with
        ``domain:all``, else the domains granted."""
        return self.can(Permission.DOMAIN_ALL) or domain in self.domains

    @property
    def work_domains(self) -> frozenset[Domain]:
        """The equipment domains the principal acts in."""
        return frozenset(d for d in Domain if self.in_domain(d))

    def sees(self, commune: str | None) -> bool:
        """Whether a thing of ``commune`` (``None``: metropolis-wide) is in scope."""
        if self.communes is None:
            return True
        return commune is not None and commune in self.communes

    def require_visible(self, commune: str | None, what: str) -> None:
        """Raise :class:`NotFound` outside the scope, so existence stays hidden."""
        if not self.sees(commune):
            raise NotFound(f"{what} not found")

    def require_commune(self, commune: str | None) -> None:
        """Raise :class:`PermissionDenied` for a write into a commune outside the scope."""
        if not self.sees(commune):
            where = f"commune {commune!r}" if commune else "metropolis-wide data"
            raise PermissionDenied(f"{where} is outside the scope of {self.name}")

    def scope_clause(self, column: InstrumentedAttribute[Any] | Any) -> ColumnElement[bool]:
        """A SQL condition keeping only rows whose commune column is in scope."""
        if self.communes is None:
            return true()
        if not self.communes:
            return false()
        return column.in_(sorted(self.communes))

    def covers(self, communes: Iterable[str] | None) -> bool:
        """Whether this scope includes every commune of another scope (``None``: all)."""
        if self.communes is None:
            return True
        if communes is None:
            return False
        return set(communes) <= self.communes
