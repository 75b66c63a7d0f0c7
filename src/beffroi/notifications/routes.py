"""Managing notification routes: create, list, read, change, delete.

Routes are managed with ``notification:manage``. A route's communes must lie within
the scope of whoever creates or changes it (:mod:`.route_checks`), and a route for
every commune is for metropolis-wide people only; a route outside one's scope is not
found. Every change and every refusal is audited.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.context import Context
from beffroi.core.errors import Conflict, NotFound, refuse_nulls
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.notifications.models import NotificationDelivery, NotificationRoute
from beffroi.notifications.route_checks import normalise
from beffroi.notifications.schemas import RouteCreate, RouteOut, RouteUpdate
from beffroi.notifications.states import Channel, DeliveryState

TARGET = "notification_route"
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


def redacted(channel: str, target: Any) -> Any:
    """A target fit for the audit log: a webhook URL's query (often a secret) left out."""
    if channel == Channel.WEBHOOK and isinstance(target, str):
        parts = urlsplit(target)
        return f"{parts.scheme}://{parts.hostname or ''}{parts.path}"
    return target


def _describe(row: NotificationRoute | dict[str, Any]) -> dict[str, Any]:
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    details = {name: get(name) for name in ROUTE_FIELDS}
    details["target"] = redacted(str(details["channel"]), details["target"])
    return details


async def load(
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


async def _write_named(session: AsyncSession, name: str | None) -> None:
    """Write the route now: a name given at the same moment by another is a conflict."""
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"a notification route named {name!r} exists already") from None


async def create_route(ctx: Context, body: RouteCreate) -> RouteOut:
    """Create a route. Its communes must be within your scope."""
    # Until it has an id, a refused route is named by its name.
    action = "notification.route.create"
    async with change(ctx, action, target_type=TARGET, target_id=body.name) as uc:
        ctx.principal.require(Permission.NOTIFICATION_MANAGE)
        now = utcnow()
        fields = await normalise(ctx, uc.session, body.model_dump(mode="json"))
        await _name_free(uc.session, fields["name"])
        row = NotificationRoute(
            **fields,
            version=1,
            created_at=now,
            created_by=ctx.principal.name,
            updated_at=now,
            updated_by=ctx.principal.name,
        )
        uc.session.add(row)
        await _write_named(uc.session, body.name)
        uc.audit(target_id=row.id, details=_describe(row))
    return RouteOut.model_validate(row)


async def list_routes(ctx: Context) -> list[RouteOut]:
    """The routes within your scope, by name."""
    ctx.principal.require(Permission.NOTIFICATION_MANAGE)
    async with ctx.db.read() as session:
        rows = (
            await session.execute(select(NotificationRoute).order_by(NotificationRoute.name))
        ).scalars()
        return [RouteOut.model_validate(r) for r in rows if ctx.principal.covers(r.communes)]


async def get_route(ctx: Context, route_id: int) -> RouteOut:
    """One route within your scope."""
    ctx.principal.require(Permission.NOTIFICATION_MANAGE)
    async with ctx.db.read() as session:
        return RouteOut.model_validate(await load(session, ctx, route_id))


async def update_route(ctx: Context, route_id: int, body: RouteUpdate) -> RouteOut:
    """Change a route; refused (409) if ``version`` is not the current one."""
    action = "notification.route.update"
    async with change(ctx, action, target_type=TARGET, target_id=route_id) as uc:
        ctx.principal.require(Permission.NOTIFICATION_MANAGE)
        now = utcnow()
        given = body.model_dump(mode="json", include=body.model_fields_set - {"version"})
        row = await load(uc.session, ctx, route_id, lock=True)
        if body.version != row.version:
            raise Conflict(
                f"notification route {route_id} is at version {row.version}, not {body.version}",
                current_version=row.version,
            )
        refuse_nulls(given, NOT_NULL)
        before = _describe(row)
        merged = {name: getattr(row, name) for name in ROUTE_FIELDS} | given
        fields = await normalise(ctx, uc.session, merged)
        await _name_free(uc.session, fields["name"], route_id)
        for name, value in fields.items():
            setattr(row, name, value)
        row.version += 1
        row.updated_at = now
        row.updated_by = ctx.principal.name
        await _write_named(uc.session, body.name)
        after = _describe(row)
        uc.audit(
            details={
                "changed": {k: v for k, v in after.items() if before.get(k) != v},
                "version": row.version,
            }
        )
    return RouteOut.model_validate(row)


async def delete_route(ctx: Context, route_id: int) -> None:
    """Delete a route. Its deliveries stay on record; those still pending are given up."""
    action = "notification.route.delete"
    async with change(ctx, action, target_type=TARGET, target_id=route_id) as uc:
        ctx.principal.require(Permission.NOTIFICATION_MANAGE)
        row = await load(uc.session, ctx, route_id, lock=True)
        details = _describe(row)
        await uc.session.execute(
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
        await uc.session.delete(row)
        uc.audit(details=details)
