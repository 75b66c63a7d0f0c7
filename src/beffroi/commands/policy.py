"""What may be sent, by whom, and with what safety: the catalogue applied to one request.

Everything here is checked before anything is written or sent, so a refused command
leaves no trace but its audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beffroi.catalogue import CATALOGUE, CommandSpec, EquipmentType, rights, schema_errors
from beffroi.config import Settings
from beffroi.core.errors import Conflict, FieldError, InvalidInput, PermissionDenied
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow

MAX_TIMEOUT_S = 3600
MAX_EXPIRY_S = 7 * 24 * 3600
MIN_EXPIRY_S = 5


@dataclass(frozen=True, slots=True)
class Timing:
    """A command's own timeout and lifetime, or the type's defaults when not given."""

    timeout_s: int | None = None
    expires_in_s: int | None = None


@dataclass(frozen=True, slots=True)
class Checked:
    """A request that passed every check, with what the checks decided."""

    type_spec: EquipmentType
    spec: CommandSpec
    params: dict[str, Any]
    critical: bool
    needs_approval: bool
    timeout_s: int
    expires_in_s: int
    max_attempts: int


def check(
    principal: Principal,
    settings: Settings,
    asset_type: str,
    name: str,
    params: dict[str, Any] | None,
    reason: str | None,
    timing: Timing,
    *,
    critical_because: str | None = None,
    within_session: bool = False,
) -> Checked:
    """Validate a command for a type against the catalogue and the principal.

    ``critical_because``: the batch makes it critical whatever the command (its size, a
    whole commune switched off). ``within_session``: the video area sends it within a view
    session it checked (a command the catalogue keeps to sessions is refused otherwise).
    Raises :class:`InvalidInput` naming the bad field, or :class:`PermissionDenied`.
    """
    type_spec = CATALOGUE.require(asset_type)
    spec = type_spec.command(name)
    if spec is None:
        known = [c.name for c in type_spec.commands]
        raise InvalidInput(
            FieldError("name", f"{asset_type} has no command {name!r}; known: {known}")
        )
    if spec.in_session and not within_session:
        raise PermissionDenied(
            f"{name} commands to a {asset_type} are sent within a video session: "
            "POST /api/v1/video/sessions/{id}/commands"
        )
    if not rights.may_send(principal, type_spec, spec):
        raise PermissionDenied(
            f"{principal.name} may not send {name} to a {asset_type}: it takes one of the roles "
            f"{list(spec.roles)}"
            + (f" with the {type_spec.domain.value} domain" if "operator" in spec.roles else "")
        )
    params = params if params is not None else {}
    errors = schema_errors(spec.params, params, "params")
    timeout_s = timing.timeout_s if timing.timeout_s is not None else spec.timeout_s
    expires_in_s = timing.expires_in_s if timing.expires_in_s is not None else spec.expires_s
    if not 1 <= timeout_s <= MAX_TIMEOUT_S:
        errors.append(FieldError("timeout_s", f"must be between 1 and {MAX_TIMEOUT_S}"))
    if not MIN_EXPIRY_S <= expires_in_s <= MAX_EXPIRY_S:
        errors.append(
            FieldError("expires_in_s", f"must be between {MIN_EXPIRY_S} and {MAX_EXPIRY_S}")
        )
    elif expires_in_s < timeout_s:
        errors.append(FieldError("expires_in_s", "must not be shorter than timeout_s"))
    critical = critical_because is not None or spec.is_critical(params)
    text = (reason or "").strip()
    if (critical or spec.reason_required) and not text:
        why = critical_because or (
            "a critical command" if critical else f"{name} on a {asset_type}"
        )
        errors.append(FieldError("reason", f"required: {why}"))
    if errors:
        raise InvalidInput(errors)
    return Checked(
        type_spec=type_spec,
        spec=spec,
        params=params,
        critical=critical,
        needs_approval=critical and settings.four_eyes,
        timeout_s=timeout_s,
        expires_in_s=expires_in_s,
        max_attempts=settings.command_max_attempts if spec.idempotent else 1,
    )


def may_approve(principal: Principal, requested_by_user_id: int | None, requested_by: str) -> None:
    """The four-eyes rule: the ``command:approve`` permission (a supervisor's), and not the
    person who asked."""
    if not principal.can(Permission.COMMAND_APPROVE):
        raise PermissionDenied(
            f"{principal.name} lacks permission {Permission.COMMAND_APPROVE.value}: "
            "only a supervisor approves"
        )
    same_user = principal.user_id is not None and principal.user_id == requested_by_user_id
    if same_user or principal.name == requested_by:
        raise PermissionDenied(
            "the four-eyes rule: a command is approved by someone else than its requester"
        )


def require_in_time(deadline: datetime | None, what: str) -> None:
    """An approval request past its deadline is neither approved nor refused any more."""
    # The expiry job closes it soon; until then the request must not be approvable either.
    if deadline is not None and deadline <= utcnow():
        raise Conflict(f"the approval request of {what} expired", current_state="expired")


def may_cancel(principal: Principal, asset_type: str, name: str) -> None:
    """Whoever may send a command may cancel it; a supervisor may cancel any."""
    if principal.can(Permission.COMMAND_APPROVE):
        return
    spec = CATALOGUE.get(asset_type)
    command = spec.command(name) if spec else None
    if spec is None or command is None or not rights.may_send(principal, spec, command):
        raise PermissionDenied(f"{principal.name} may not cancel {name} commands")
