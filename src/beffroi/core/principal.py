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
    POLICE = "police"
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
    # Configure traffic signal controllers, write their timing plans, timetables and
    # corridors (green waves); imposing a plan by hand is a command (command:send).
    TRAFFIC_PLAN = "traffic:plan"
    # Video-protection (docs/video.md), ruled by the Code de la sécurité intérieure:
    # see cameras (positions, commands and their reasons, camera alarms) without a
    # habilitation - auditors, who check the register, and administrators, who keep the
    # registry. Viewing and steering need an active habilitation whatever the role.
    VIDEO_SEE = "video:see"
    # Open view sessions and steer cameras, within an active habilitation (video agents).
    VIDEO_WATCH = "video:watch"
    # Search and export the video register (auditors).
    VIDEO_REGISTER = "video:register"
    # Record and revoke agents' habilitations, manage retention and legal holds.
    VIDEO_MANAGE = "video:manage"
    # The citizen line: record a phone call as a citizen report, write its public notes.
    REPORT_RECORD = "report:record"
    # Read citizen reports, their callers' contact details included (to call them back).
    REPORT_READ = "report:read"
    # Act (send commands, handle alarms) in every equipment domain; without it, only in
    # the domains granted to the account (an operator's).
    DOMAIN_ALL = "domain:all"
    # Refresh open data snapshots now, hand out and revoke open data API keys (the
    # publication itself needs no permission: it is public).
    OPENDATA_MANAGE = "opendata:manage"
    # Record, change, end and cancel road situations (works, closures, events,
    # incidents) and confirm the texts of the message signs they feed.
    ROADS_MANAGE = "roads:manage"
    # Read the operations log (main courante) of one's communes (docs/opslog.md).
    OPSLOG_READ = "opslog:read"
    # Write entries and amendments in the operations log, in one's communes.
    OPSLOG_WRITE = "opslog:write"
    # Read crisis plans, their runs and their post-event reports (docs/plans.md).
    PLAN_READ = "plan:read"
    # Write crisis plans and their notification lists.
    PLAN_WRITE = "plan:write"
    # Start a plan (a second person approves, with command:approve), tick its checklists,
    # skip a step, close a run.
    PLAN_RUN = "plan:run"


_ALL_READ = {Permission.ASSET_READ, Permission.TOKEN_OWN, Permission.ALARM_READ}
# The people of the control room keep the operations log together, each from their desk.
_LOG = {Permission.OPSLOG_READ, Permission.OPSLOG_WRITE}
_PLANS = {Permission.PLAN_READ, Permission.PLAN_RUN}
_DISPATCH = {
    Permission.REPORT_RECORD,
    Permission.REPORT_READ,
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
            Permission.ROADS_MANAGE,
            Permission.TRAFFIC_PLAN,
            Permission.DOMAIN_ALL,
        }
        | _DISPATCH
        | _LOG
        | _PLANS
        | {Permission.PLAN_WRITE}
    ),
    Role.OPERATOR: frozenset(
        _ALL_READ
        | {
            Permission.GROUP_WRITE,
            Permission.COMMAND_READ,
            Permission.COMMAND_SEND,
            Permission.ROADS_MANAGE,
        }
        | _DISPATCH
        | _LOG
        | _PLANS
    ),
    Role.FIELD_AGENT: frozenset(
        _ALL_READ
        | {Permission.COMMAND_READ, Permission.INTERVENTION_READ, Permission.INTERVENTION_WORK}
    ),
    Role.VIDEO_AGENT: frozenset(
        _ALL_READ
        | {Permission.COMMAND_READ, Permission.COMMAND_SEND, Permission.VIDEO_WATCH}
        | _LOG
    ),
    # A municipal police officer in the hub: commune scope like an operator's (Talant's
    # police sees Talant only). Reads the assets, alarms, commands and work orders of the
    # scope, to write the operations log and link it to them; sends no equipment command
    # (the catalogue's per-command roles do not name police) and handles no alarm. An
    # officer who must also act on equipment (raise a bollard) is given the operator role
    # beside this one, with that equipment's domain: domains narrow acting, as for any
    # operator. Citizen reports are not read: they hold callers' contact details.
    Role.POLICE: frozenset(
        _ALL_READ
        | {Permission.COMMAND_READ, Permission.INTERVENTION_READ}
        | _LOG
        | {Permission.PLAN_READ}
    ),
    Role.AUDITOR: frozenset(
        _ALL_READ
        | {
            Permission.AUDIT_READ,
            Permission.USER_READ,
            Permission.COMMAND_READ,
            Permission.INTERVENTION_READ,
            Permission.KPI_READ,
            Permission.VIDEO_SEE,
            Permission.VIDEO_REGISTER,
            # Reads the log (and verifies its chain, with audit:read, metropolis-wide).
            Permission.OPSLOG_READ,
            Permission.PLAN_READ,
        }
    ),
    # A viewer reads the equipment, not the room's log (it names people and incidents).
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
    ``video_cleared``: the person holds an active video habilitation (set when the request
    is authenticated, from the video area's register of habilitations).
    """

    name: str
    kind: ActorKind
    roles: frozenset[Role] = frozenset()
    domains: frozenset[Domain] = frozenset()
    communes: frozenset[str] | None = frozenset()
    user_id: int | None = None
    via: str = ""
    video_cleared: bool = False

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

    @property
    def sees_video(self) -> bool:
        """Whether cameras exist for this principal at all: their positions, commands,
        reasons and alarms. Auditors and administrators see them; a video agent only while
        holding an active habilitation; nobody else (law: designated agents only)."""
        return self.can(Permission.VIDEO_SEE) or (
            self.video_cleared and self.can(Permission.VIDEO_WATCH)
        )

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
