"""Use cases of notifications: manage routes, test one, read the delivery record.

Routes are managed with ``notification:manage``. A route's communes must lie within
the scope of whoever creates or changes it, and a route for every commune is for
metropolis-wide people only; a route outside one's scope is not found. Every change
and every refusal is audited.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.communes.service import resolve_codes
from beffroi.core import audit
from beffroi.core.context import Context
from beffroi.core.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    refuse_nulls,
)
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.notifications import messages, senders
from beffroi.notifications.events import DeliveryChanged
from beffroi.notifications.models import NotificationDelivery, NotificationRoute
from beffroi.notifications.routing import delivery_row
from beffroi.notifications.schemas import DeliveryOut, RouteCreate, RouteOut, RouteUpdate
from beffroi.notifications.states import Channel, DeliveryState

T = TypeVar("T")
URL_MAX = 2000
EMAILS_MAX = 50
# Pragmatic: something@host, no spaces, no list separators, no display names.
EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
ROUTE_FIELDS = (
    "name",
    "enabled",
    "channel",
    "target",
    "severities",
    "alarm_types",
    "communes",
    "domains",
    "actions",
    "days",
    "time_from",
    "time_to",
    "escalation_only",
)
# Fields an update may leave out but not set to null (``communes`` null means all).
NOT_NULL = (
    "name",
    "enabled",
    "channel",
    "target",
    "severities",
    "alarm_types",
    "domains",
    "actions",
    "days",
    "escalation_only",
)


def to_out(row: NotificationRoute) -> RouteOut:
    """The API shape of a route."""
    return RouteOut(
        id=row.id,
        name=row.name,
        enabled=row.enabled,
        channel=Channel(row.channel),
        target=row.target,
        severities=row.severities,
        alarm_types=row.alarm_types,
        communes=row.communes,
        domains=row.domains,
        actions=row.actions,
        days=row.days,
        time_from=row.time_from,
        time_to=row.time_to,
        escalation_only=row.escalation_only,
        version=row.version,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def delivery_out(row: NotificationDelivery) -> DeliveryOut:
    """The API shape of a delivery."""
    return DeliveryOut(
        id=row.id,
        route_id=row.route_id,
        route_name=row.route_name,
        history_id=row.history_id,
        alarm_id=row.alarm_id,
        commune=row.commune_code,
        action=row.action,
        channel=Channel(row.channel),
        target=row.target,
        state=DeliveryState(row.state),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        payload=row.payload,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def redacted(channel: str, target: Any) -> Any:
    """A target fit for the audit log: a webhook URL's query (often a secret) left out."""
    if channel == Channel.WEBHOOK and isinstance(target, str):
        parts = urlsplit(target)
        return f"{parts.scheme}://{parts.hostname or ''}{parts.path}"
    return target


def _check_target(channel: Channel, target: Any, smtp_host: str) -> tuple[Any, list[FieldError]]:
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


async def _normalise(ctx: Context, session: AsyncSession, fields: dict[str, Any]) -> dict[str, Any]:
    """Check a route's complete fields and return them as stored; every problem is named
    at once, and scope is checked after the input is known to be sound."""
    out = dict(fields)
    channel = Channel(fields["channel"])
    out["channel"] = channel.value
    out["target"], errors = _check_target(channel, fields["target"], ctx.settings.smtp_host)
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
    _require_scope(ctx, out["communes"])
    return out


def _require_scope(ctx: Context, communes: list[str] | None) -> None:
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


def _describe(row: NotificationRoute | dict[str, Any]) -> dict[str, Any]:
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    details = {name: get(name) for name in ROUTE_FIELDS}
    details["target"] = redacted(str(details["channel"]), details["target"])
    return details


async def _load(
    session: AsyncSession, ctx: Context, route_id: int, *, lock: bool = False
) -> NotificationRoute:
    """A route the caller may see (its communes within their scope), else not found."""
    stmt = select(NotificationRoute).where(NotificationRoute.id == route_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None or not ctx.principal.covers(row.communes):
        raise NotFound(f"notification route {route_id} not found")
    return row


async def _name_free(session: AsyncSession, name: str, route_id: int | None = None) -> None:
    stmt = select(NotificationRoute.id).where(NotificationRoute.name == name)
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is not None and found != route_id:
        raise Conflict(f"a notification route named {name!r} exists already", route_id=found)


# --- routes --------------------------------------------------------------------------------


async def create_route(ctx: Context, body: RouteCreate) -> RouteOut:
    """Create a route. Its communes must be within your scope."""
    return await audit.refused(
        ctx, "notification.route.create", lambda: _create_route(ctx, body), name=body.name
    )


async def _create_route(ctx: Context, body: RouteCreate) -> RouteOut:
    ctx.principal.require(Permission.NOTIFICATION_MANAGE)
    now = utcnow()
    try:
        async with ctx.db.write() as session:
            fields = await _normalise(ctx, session, body.model_dump(mode="json"))
            await _name_free(session, fields["name"])
            row = NotificationRoute(
                **fields,
                version=1,
                created_at=now,
                created_by=ctx.principal.name,
                updated_at=now,
                updated_by=ctx.principal.name,
            )
            session.add(row)
            await session.flush()
            await audit.record(
                session,
                ctx.principal,
                "notification.route.create",
                target_type="notification_route",
                target_id=str(row.id),
                details=_describe(row),
            )
    except IntegrityError:  # the same name, created at the same moment
        raise Conflict(f"a notification route named {body.name!r} exists already") from None
    return to_out(row)


async def list_routes(ctx: Context) -> list[RouteOut]:
    """The routes within your scope, by name."""
    ctx.principal.require(Permission.NOTIFICATION_MANAGE)
    async with ctx.db.read() as session:
        rows = (
            await session.execute(select(NotificationRoute).order_by(NotificationRoute.name))
        ).scalars()
        return [to_out(r) for r in rows if ctx.principal.covers(r.communes)]


async def get_route(ctx: Context, route_id: int) -> RouteOut:
    """One route within your scope."""
    ctx.principal.require(Permission.NOTIFICATION_MANAGE)
    async with ctx.db.read() as session:
        return to_out(await _load(session, ctx, route_id))


async def update_route(ctx: Context, route_id: int, body: RouteUpdate) -> RouteOut:
    """Change a route; refused (409) if ``version`` is not the current one."""
    return await audit.refused(
        ctx,
        "notification.route.update",
        lambda: _update_route(ctx, route_id, body),
        route_id=route_id,
    )


async def _update_route(ctx: Context, route_id: int, body: RouteUpdate) -> RouteOut:
    ctx.principal.require(Permission.NOTIFICATION_MANAGE)
    now = utcnow()
    given = body.model_dump(mode="json", include=body.model_fields_set - {"version"})
    try:
        async with ctx.db.write() as session:
            row = await _load(session, ctx, route_id, lock=True)
            if body.version != row.version:
                raise Conflict(
                    f"notification route {route_id} is at version {row.version}, "
                    f"not {body.version}",
                    current_version=row.version,
                )
            refuse_nulls(given, NOT_NULL)
            before = _describe(row)
            merged = {name: getattr(row, name) for name in ROUTE_FIELDS} | given
            fields = await _normalise(ctx, session, merged)
            await _name_free(session, fields["name"], route_id)
            for name, value in fields.items():
                setattr(row, name, value)
            row.version += 1
            row.updated_at = now
            row.updated_by = ctx.principal.name
            after = _describe(row)
            await audit.record(
                session,
                ctx.principal,
                "notification.route.update",
                target_type="notification_route",
                target_id=str(row.id),
                details={
                    "changed": {k: v for k, v in after.items() if before.get(k) != v},
                    "version": row.version,
                },
            )
    except IntegrityError:  # the same name, given at the same moment
        raise Conflict(f"a notification route named {body.name!r} exists already") from None
    return to_out(row)


async def delete_route(ctx: Context, route_id: int) -> None:
    """Delete a route. Its deliveries stay on record; those still pending are given up."""
    await audit.refused(
        ctx,
        "notification.route.delete",
        lambda: _delete_route(ctx, route_id),
        route_id=route_id,
    )


async def _delete_route(ctx: Context, route_id: int) -> None:
    ctx.principal.require(Permission.NOTIFICATION_MANAGE)
    async with ctx.db.write() as session:
        row = await _load(session, ctx, route_id, lock=True)
        details = _describe(row)
        await session.execute(
            update(NotificationDelivery)
            .where(
                NotificationDelivery.route_id == route_id,
                NotificationDelivery.state == DeliveryState.PENDING,
            )
            .values(
                state=DeliveryState.FAILED.value,
                next_attempt_at=None,
                last_error="route deleted before the notification went out",
            )
        )
        await session.delete(row)
        await audit.record(
            session,
            ctx.principal,
            "notification.route.delete",
            target_type="notification_route",
            target_id=str(route_id),
            details=details,
        )


async def send_test(ctx: Context, route_id: int) -> DeliveryOut:
    """Send a test notification through a route now, once, and return its delivery
    record (``sent``, or ``failed`` with the error). No retries: the point is to see."""
    return await audit.refused(
        ctx, "notification.route.test", lambda: _send_test(ctx, route_id), route_id=route_id
    )


async def _send_test(ctx: Context, route_id: int) -> DeliveryOut:
    ctx.principal.require(Permission.NOTIFICATION_MANAGE)
    async with ctx.db.read() as session:
        route = await _load(session, ctx, route_id)
    now = utcnow()
    payload = messages.trial_payload(route.name, now)
    error: senders.SendFailed | None = None
    async with httpx.AsyncClient() as client:
        try:
            await senders.send(ctx.settings, client, route.channel, route.target, payload)
        except senders.SendFailed as exc:
            error = exc
    done = utcnow()
    # A test concerns no alarm; a single-commune route's test is filed under that commune.
    commune = route.communes[0] if route.communes and len(route.communes) == 1 else None
    values = delivery_row(
        route, payload, now, history_id=None, alarm_id=None, commune=commune, action="test"
    ) | {
        "state": (DeliveryState.FAILED if error else DeliveryState.SENT).value,
        "attempts": 1,
        "next_attempt_at": None,
        "last_error": str(error) if error else None,
        "sent_at": None if error else done,
    }
    async with ctx.db.write() as session:
        row = NotificationDelivery(**values)
        session.add(row)
        await session.flush()
        await audit.record(
            session,
            ctx.principal,
            "notification.route.test",
            target_type="notification_route",
            target_id=str(route_id),
            outcome=audit.Outcome.SUCCESS if error is None else audit.Outcome.FAILURE,
            details={"delivery_id": row.id, "state": row.state, "error": row.last_error},
        )
    ctx.runtime.events.publish(
        DeliveryChanged(row.id, row.route_id, None, row.state, row.attempts, done)
    )
    return delivery_out(row)


# --- deliveries ----------------------------------------------------------------------------


async def list_deliveries(
    ctx: Context,
    *,
    alarm_id: int | None = None,
    route_id: int | None = None,
    state: DeliveryState | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[DeliveryOut]:
    """Deliveries about alarms of your communes, newest first (``before_id`` pages on)."""
    ctx.principal.require(Permission.NOTIFICATION_MANAGE)
    stmt = (
        select(NotificationDelivery)
        .where(ctx.principal.scope_clause(NotificationDelivery.commune_code))
        .order_by(NotificationDelivery.id.desc())
        .limit(limit)
    )
    if alarm_id is not None:
        stmt = stmt.where(NotificationDelivery.alarm_id == alarm_id)
    if route_id is not None:
        stmt = stmt.where(NotificationDelivery.route_id == route_id)
    if state is not None:
        stmt = stmt.where(NotificationDelivery.state == state)
    if before_id is not None:
        stmt = stmt.where(NotificationDelivery.id < before_id)
    async with ctx.db.read() as session:
        return [delivery_out(r) for r in (await session.execute(stmt)).scalars()]
