"""What a notification route may say: a target its channel can reach, sound hours, and
communes within the scope of whoever writes it. Every problem is named at once."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.catalogue.visibility import shows_domain
from beffroi.communes.service import resolve_codes
from beffroi.core.context import Context
from beffroi.core.errors import FieldError, InvalidInput, PermissionDenied
from beffroi.notifications.states import Channel

URL_MAX = 2000
EMAILS_MAX = 50
# Pragmatic: something@host, no spaces, no list separators, no display names.
EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def check_target(channel: Channel, target: Any, smtp_host: str) -> tuple[Any, list[FieldError]]:
    """The target, normalised, and what is wrong with it."""
    if channel == Channel.WEBHOOK:
        hint = "must be an http(s) URL, e.g. https://hooks.example.org/beffroi"
        if not isinstance(target, str):
            return target, [FieldError("target", f"a webhook target {hint}")]
        url = target.strip()
        try:
            parts = urlsplit(url)
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            return url, [FieldError("target", hint)]
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or not port_ok
            or len(url) > URL_MAX
            or any(c.isspace() for c in url)
        ):
            return url, [FieldError("target", f"{url[:100]!r} {hint}")]
        return url, []
    errors: list[FieldError] = []
    if not smtp_host:
        errors.append(
            FieldError("channel", "e-mail routes need an SMTP server: BEFFROI_SMTP_HOST is empty")
        )
    if isinstance(target, str) or not isinstance(target, list):
        return target, [*errors, FieldError("target", "an e-mail target is a list of addresses")]
    if not 1 <= len(target) <= EMAILS_MAX:
        errors.append(FieldError("target", f"give 1 to {EMAILS_MAX} addresses"))
    addresses = _unique([str(a).strip() for a in target])
    errors += [
        FieldError(f"target[{i}]", f"{a[:100]!r} is not an e-mail address")
        for i, a in enumerate(addresses)
        if len(a) > 254 or not EMAIL.match(a)
    ]
    return addresses, errors


async def normalise(ctx: Context, session: AsyncSession, fields: dict[str, Any]) -> dict[str, Any]:
    """Check a route's complete fields and return them as stored; every problem is named
    at once, and scope is checked after the input is known to be sound."""
    out = dict(fields)
    channel = Channel(fields["channel"])
    out["channel"] = channel.value
    out["target"], errors = check_target(channel, fields["target"], ctx.settings.smtp_host)
    if (fields["time_from"] is None) != (fields["time_to"] is None):
        missing = "time_to" if fields["time_to"] is None else "time_from"
        errors.append(FieldError(missing, "give both time_from and time_to, or neither"))
    elif fields["time_from"] is not None and fields["time_from"] == fields["time_to"]:
        errors.append(FieldError("time_to", "must differ from time_from"))
    communes = fields["communes"]
    if communes is not None:
        if not communes:
            errors.append(
                FieldError("communes", "name at least one commune, or null for every commune")
            )
        else:
            try:
                out["communes"] = await resolve_codes(session, communes, "communes")
            except InvalidInput as exc:
                errors += exc.errors
    if errors:
        raise InvalidInput(errors)
    for name in ("severities", "alarm_types", "domains", "actions"):
        out[name] = _unique([str(v) for v in fields[name]])
    out["days"] = sorted(set(fields["days"]))
    if fields["escalation_only"]:
        out["actions"] = ["escalated"]
    require_scope(ctx, out["communes"])
    hidden = sorted(d for d in out["domains"] if not shows_domain(ctx.principal, d))
    if hidden:
        # Camera alarms (their cameras, places and times) only for designated agents.
        raise PermissionDenied(f"only designated agents may route alarms of {hidden}")
    return out


def require_scope(ctx: Context, communes: list[str] | None) -> None:
    """A route's communes must lie within the caller's scope."""
    if communes is None:
        if not ctx.principal.all_communes:
            raise PermissionDenied(
                "a route for every commune needs metropolis-wide scope; name your communes"
            )
        return
    if not ctx.principal.covers(communes):
        outside = sorted(set(communes) - (ctx.principal.communes or set()))
        raise PermissionDenied(f"communes {outside} are outside the scope of {ctx.principal.name}")
