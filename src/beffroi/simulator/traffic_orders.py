"""How a simulated traffic controller obeys: modes that revert by themselves, plans held
until an end or the timetable's next change, green waves, bus priority."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from beffroi.simulator import curves
from beffroi.simulator.orders import SHORT_S, Effect, Order, Refused, working
from beffroi.simulator.state import Device, Override


def traffic_set_mode(order: Order) -> Effect:
    """Controller ``set_mode``: any mode but normal reverts by itself after its delay."""
    controller, mode = order.device, order.params["mode"]
    working(controller, "hardwareFault", "conflictFlash")
    if mode == "normal":
        controller.overrides.pop("mode", None)
        return Effect()
    until = order.moment + timedelta(minutes=int(order.params["revert_after_min"]))
    controller.overrides["mode"] = Override(mode, order.moment, until)
    return Effect(changes_at=(until,))


def _known_plan(controller: Device, plan: int) -> None:
    """Refuse a plan the controller cannot run: one its delivered timetable lacks, or
    beyond its built-in plans when it was sent none."""
    if controller.timetable is not None:
        if plan not in controller.timetable.plans:
            raise Refused("no such plan", plan=plan, plans=sorted(controller.timetable.plans))
        return
    plans = int(controller.attribute("plans", 4))
    if plan > plans:
        raise Refused("no such plan", plan=plan, plans=plans)


def _timetable_change(order: Order) -> datetime:
    """When the controller's timetable next changes plan (its delivered one, else the
    built-in day curve)."""
    timetable = order.device.timetable
    if timetable is not None:
        upcoming = timetable.next_change(order.moment)
        return upcoming or order.moment + timedelta(days=7)
    local = order.env.sun.local(order.moment)
    return curves.TRAFFIC_PLANS.next_change(local).astimezone(UTC)


def traffic_set_plan(order: Order) -> Effect:
    """Controller ``set_plan``: held until ``until`` when given (the controller returns to
    its timetable by itself then, hub or no hub), else until the timetable's next change."""
    controller, plan = order.device, int(order.params["plan"])
    _known_plan(controller, plan)
    given = order.params.get("until")
    until = datetime.fromisoformat(given) if given else _timetable_change(order)
    if until <= order.moment:
        raise Refused("the end is past", until=given)
    controller.overrides.pop("offset", None)
    controller.overrides["plan"] = Override(plan, order.moment, until)
    return Effect(changes_at=(until,))


def traffic_resume_timetable(order: Order) -> Effect:
    """Controller ``resume_timetable``: a plan imposed by hand (or a green wave) ends now."""
    order.device.overrides.pop("plan", None)
    order.device.overrides.pop("offset", None)
    return Effect()


def traffic_green_wave(order: Order) -> Effect:
    """Controller ``apply_green_wave``: runs the plan with its own line of the offsets
    table until the timetable's next change."""
    controller, plan = order.device, int(order.params["plan"])
    offsets = order.params["offsets"]
    if controller.id not in offsets:
        raise Refused("not in this green wave", corridor=order.params["corridor"])
    _known_plan(controller, plan)
    until = _timetable_change(order)
    controller.overrides["plan"] = Override(plan, order.moment, until)
    controller.overrides["offset"] = Override(int(offsets[controller.id]), order.moment, until)
    return Effect(changes_at=(until,))


def traffic_priority(order: Order) -> Effect:
    """Controller ``priority_request``: a bus gets its green (no lasting state)."""
    if not order.device.attribute("bus_priority", False):
        raise Refused("intersection has no bus priority")
    return Effect(duration_s=SHORT_S)
