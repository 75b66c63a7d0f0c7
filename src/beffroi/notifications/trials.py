"""Trying a notification route: one test message, sent now, on the record."""

from __future__ import annotations

import httpx

from beffroi.core import audit
from beffroi.core.context import Context
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.notifications import messages, senders
from beffroi.notifications.events import DeliveryChanged
from beffroi.notifications.models import NotificationDelivery, NotificationRoute
from beffroi.notifications.routes import TARGET, load
from beffroi.notifications.routing import delivery_row
from beffroi.notifications.schemas import DeliveryOut
from beffroi.notifications.states import DeliveryState

ACTION = "notification.route.test"


async def _route(ctx: Context, route_id: int) -> NotificationRoute:
    ctx.principal.require(Permission.NOTIFICATION_MANAGE)
    async with ctx.db.read() as session:
        return await load(session, ctx, route_id)


async def send_test(ctx: Context, route_id: int) -> DeliveryOut:
    """Send a test notification through a route now, once, and return its delivery
    record (``sent``, or ``failed`` with the error). No retries: the point is to see."""
    async with change(ctx, ACTION, target_type=TARGET, target_id=route_id) as uc:
        # The route is read, and the message sent, before the use case's session takes its
        # connection: nothing is locked while a remote server answers, or fails to.
        route = await _route(ctx, route_id)
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
        row = NotificationDelivery(**values)
        uc.session.add(row)
        await uc.session.flush()
        uc.audit(
            outcome=audit.Outcome.SUCCESS if error is None else audit.Outcome.FAILURE,
            details={"delivery_id": row.id, "state": row.state, "error": row.last_error},
        )
        uc.publish(DeliveryChanged(row.id, row.route_id, None, row.state, row.attempts, done))
    return DeliveryOut.model_validate(row)
