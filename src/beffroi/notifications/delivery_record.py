"""Reading the delivery record: what was sent where, about which alarm, and how it went."""

from __future__ import annotations

from sqlalchemy import select

from beffroi.catalogue.visibility import type_clause
from beffroi.core.context import Context
from beffroi.core.principal import Permission
from beffroi.notifications.models import NotificationDelivery
from beffroi.notifications.schemas import DeliveryOut
from beffroi.notifications.states import DeliveryState


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
        .where(
            ctx.principal.scope_clause(NotificationDelivery.commune_code),
            # The payload names the alarm's equipment type (none for a test): deliveries
            # about hidden equipment (cameras) are hidden with it, without a join.
            type_clause(ctx.principal, NotificationDelivery.payload["asset_type"].as_string()),
        )
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
        return [DeliveryOut.model_validate(r) for r in (await session.execute(stmt)).scalars()]
