"""Notifications end to end: routes through the API, routing over the alarm history,
delivery to a real SMTP server and a real HTTP receiver on loopback (started here),
retries, escalation, and the notifier's loop. Steps run with a controlled clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from beffroi.alarms import feed
from beffroi.alarms.escalation import escalate_due
from beffroi.alarms.events import AlarmChanged
from beffroi.alarms.models import Alarm, AlarmHistory, FeedCursor
from beffroi.catalogue import Domain, Severity
from beffroi.config import Settings, load_settings
from beffroi.core.audit import AuditEntry
from beffroi.core.context import Context, Runtime
from beffroi.core.errors import Conflict, InvalidInput
from beffroi.core.principal import Role
from beffroi.notifications import routes as notification_routes
from beffroi.notifications.delivery import send_due
from beffroi.notifications.models import NotificationDelivery
from beffroi.notifications.routing import FEED, route_new
from beffroi.notifications.schemas import RouteCreate, RouteUpdate
from beffroi.notifications.worker import Notifier
from tests.integration.notify_support import Receiver, Smtp, free_port
from tests.support import Person, make_person

pytestmark = pytest.mark.asyncio

BASE_S = 10.0
MAX_ATTEMPTS = 3
T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # a Thursday, 11:00 in Dijon


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, smtp: Smtp) -> Settings:
    """The test database, the local SMTP server, short retries."""
    return load_settings(
        database_url=database_url,
        data_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="beffroi@example.org",
        notification_retry_base_s=BASE_S,
        notification_max_attempts=MAX_ATTEMPTS,
        notification_timeout_s=5,
        escalation_after_min=15,
    )


@pytest.fixture
async def supervisor(system: Context) -> Person:
    return await make_person(system, "sup", [Role.SUPERVISOR])


# --- alarms written as the alarm area writes them ----------------------------------------


async def make_alarm(
    runtime: Runtime,
    *,
    asset_id: str = "LC-TAL-0001",
    commune: str = "talant",
    alarm_type: str = "supplyLoss",
    severity: str = "critical",
    domain: str = "lighting",
    asset_type: str = "lighting_cabinet",
    at: datetime = T0,
    state: str = "active_unacknowledged",
) -> int:
    """An alarm and its ``raised`` history entry, in one transaction."""
    async with runtime.db.write() as session:
        alarm = Alarm(
            asset_id=asset_id,
            asset_type=asset_type,
            commune_code=commune,
            domain=domain,
            alarm_type=alarm_type,
            source="device",
            severity=severity,
            state=state,
            active_key=f"{asset_id}|{alarm_type}",
            raised_at=at,
            last_seen_at=at,
            occurrences=1,
            detail={},
            updated_at=at,
        )
        session.add(alarm)
        await session.flush()
        session.add(
            AlarmHistory(
                alarm_id=alarm.id,
                ts=at,
                action="raised",
                actor="device",
                actor_kind="device",
                state="active_unacknowledged",
                detail={},
            )
        )
    return alarm.id


async def add_history(
    runtime: Runtime, alarm_id: int, action: str, at: datetime, state: str, **columns: Any
) -> None:
    """Another history entry (and the alarm's columns it changes)."""
    async with runtime.db.write() as session:
        alarm = await session.get(Alarm, alarm_id)
        assert alarm is not None
        alarm.state = state
        for name, value in columns.items():
            setattr(alarm, name, value)
        session.add(
            AlarmHistory(
                alarm_id=alarm_id,
                ts=at,
                action=action,
                actor="op",
                actor_kind="user",
                state=state,
                detail={},
            )
        )


async def make_route(system: Context, **fields: Any) -> int:
    fields.setdefault("name", f"route-{fields.get('channel', 'webhook')}-{id(fields)}")
    return (await notification_routes.create_route(system, RouteCreate(**fields))).id


async def deliveries(runtime: Runtime) -> list[NotificationDelivery]:
    async with runtime.db.read() as session:
        stmt = select(NotificationDelivery).order_by(NotificationDelivery.id)
        return list((await session.execute(stmt)).scalars())


async def one_delivery(runtime: Runtime) -> NotificationDelivery:
    rows = await deliveries(runtime)
    assert len(rows) == 1, rows
    return rows[0]


# --- delivery ----------------------------------------------------------------------------


async def test_webhook_receives_the_alarm_as_json(
    runtime: Runtime, client: Any, supervisor: Person, receiver: Receiver
) -> None:
    created = await client.post(
        "/api/v1/notification-routes",
        json={
            "name": "Night duty",
            "channel": "webhook",
            "target": receiver.url,
            "severities": ["critical"],
        },
        headers=supervisor.headers,
    )
    assert created.status_code == 201, created.text
    alarm_id = await make_alarm(runtime)

    routed = await route_new(runtime.db, runtime.settings, T0)
    assert (routed.entries, routed.deliveries) == (1, 1)
    done = await send_due(runtime.db, runtime.settings, T0)
    assert (done.sent, done.retrying, done.failed) == (1, 0, 0)

    [got] = receiver.received
    assert got["path"] == "/hooks/beffroi?token=s3cret"
    assert got["type"] == "application/json"
    body = got["json"]
    assert body["text"] == "[CRITICAL] supplyLoss on LC-TAL-0001 (Talant) — raised"
    assert body["alarm_id"] == alarm_id
    assert body["asset_id"] == "LC-TAL-0001"
    assert body["commune"] == "talant"
    assert body["alarm_type"] == "supplyLoss"
    assert body["severity"] == "critical"
    assert body["state"] == "active_unacknowledged"
    assert body["action"] == "raised"
    assert body["link"] == f"/alarms/{alarm_id}"
    assert datetime.fromisoformat(body["at"]) == T0

    record = await client.get(
        f"/api/v1/notification-deliveries?alarm_id={alarm_id}", headers=supervisor.headers
    )
    assert record.status_code == 200
    [row] = record.json()
    assert row["state"] == "sent"
    assert row["attempts"] == 1
    assert row["route_name"] == "Night duty"
    assert row["payload"] == body
    assert datetime.fromisoformat(row["sent_at"]) == T0


async def test_email_reaches_the_smtp_server(runtime: Runtime, system: Context, smtp: Smtp) -> None:
    await make_route(
        system,
        name="Lighting by mail",
        channel="email",
        target=["ops@example.org", "night@example.org"],
        domains=["lighting"],
    )
    alarm_id = await make_alarm(runtime)
    await route_new(runtime.db, runtime.settings, T0)
    done = await send_due(runtime.db, runtime.settings, T0)
    assert done.sent == 1

    [(recipients, message)] = smtp.mailbox.messages
    assert recipients == ["ops@example.org", "night@example.org"]
    assert message["Subject"] == "[CRITICAL] supplyLoss on LC-TAL-0001 (Talant) — raised"
    assert message["From"] == "beffroi@example.org"
    assert isinstance(message, EmailMessage)
    text = message.get_content()
    assert f"Alarm: {alarm_id}" in text
    assert "Commune: Talant" in text
    assert "At: 2026-11-26 11:00:00 CET" in text  # in the city's time
    assert f"/alarms/{alarm_id}" in text


async def test_webhook_failure_is_retried_with_backoff(
    runtime: Runtime, system: Context, receiver: Receiver
) -> None:
    receiver.answers = [500, 200]
    await make_route(system, channel="webhook", target=receiver.url)
    await make_alarm(runtime)
    await route_new(runtime.db, runtime.settings, T0)

    first = await send_due(runtime.db, runtime.settings, T0)
    assert (first.sent, first.retrying) == (0, 1)
    row = await one_delivery(runtime)
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.last_error is not None
    assert row.last_error.startswith("HTTP 500")
    assert row.next_attempt_at == T0 + timedelta(seconds=BASE_S)

    early = await send_due(runtime.db, runtime.settings, T0 + timedelta(seconds=BASE_S - 1))
    assert early.claimed == 0  # not due yet
    later = T0 + timedelta(seconds=BASE_S)
    second = await send_due(runtime.db, runtime.settings, later)
    assert second.sent == 1
    row = await one_delivery(runtime)
    assert (row.state, row.attempts, row.sent_at) == ("sent", 2, later)
    assert len(receiver.received) == 2
    assert receiver.bodies()[0] == receiver.bodies()[1]


async def test_smtp_down_then_up_is_retried(runtime: Runtime, system: Context, smtp: Smtp) -> None:
    await make_route(system, channel="email", target=["ops@example.org"])
    await make_alarm(runtime)
    await route_new(runtime.db, runtime.settings, T0)
    smtp.stop()

    down = await send_due(runtime.db, runtime.settings, T0)
    assert down.retrying == 1
    row = await one_delivery(runtime)
    assert row.state == "pending"
    assert row.last_error  # the connection error, recorded

    smtp.start()
    up = await send_due(runtime.db, runtime.settings, T0 + timedelta(seconds=BASE_S))
    assert up.sent == 1
    row = await one_delivery(runtime)
    assert (row.state, row.attempts) == ("sent", 2)
    assert len(smtp.mailbox.messages) == 1


async def test_gives_up_after_max_attempts(
    runtime: Runtime, system: Context, receiver: Receiver
) -> None:
    receiver.answers = [503] * 10
    await make_route(system, channel="webhook", target=receiver.url)
    await make_alarm(runtime)
    await route_new(runtime.db, runtime.settings, T0)

    now = T0
    dues = []
    for _ in range(MAX_ATTEMPTS):
        await send_due(runtime.db, runtime.settings, now)
        row = await one_delivery(runtime)
        dues.append(row.next_attempt_at)
        now = row.next_attempt_at or now
    row = await one_delivery(runtime)
    assert (row.state, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert row.last_error is not None
    assert row.last_error.startswith("HTTP 503")
    # Backoff doubles: +10 s, then +20 s; then no more attempts.
    assert dues == [T0 + timedelta(seconds=10), T0 + timedelta(seconds=30), None]
    assert (await send_due(runtime.db, runtime.settings, now + timedelta(days=1))).claimed == 0
    assert len(receiver.received) == MAX_ATTEMPTS


async def test_unreachable_webhook_records_the_network_error(
    runtime: Runtime, system: Context
) -> None:
    await make_route(
        system, name="route-webhook", channel="webhook", target=f"http://127.0.0.1:{free_port()}/x"
    )
    await make_alarm(runtime)
    await route_new(runtime.db, runtime.settings, T0)
    await send_due(runtime.db, runtime.settings, T0)
    row = await one_delivery(runtime)
    assert row.state == "pending"
    assert row.last_error is not None
    assert row.last_error.startswith("ConnectError")

    # Deleting the route gives its pending deliveries up; the record stays.
    await notification_routes.delete_route(system, row.route_id or 0)
    row = await one_delivery(runtime)
    assert (row.state, row.route_id, row.route_name) == ("failed", None, "route-webhook")
    assert row.last_error == "route deleted before the notification went out"


# --- routing -----------------------------------------------------------------------------


async def test_routing_by_severity_type_commune_and_domain(
    runtime: Runtime, system: Context, receiver: Receiver
) -> None:
    url = receiver.url
    routes = {
        "critical": await make_route(
            system, name="critical", target=url, channel="webhook", severities=["critical"]
        ),
        "lamps": await make_route(
            system, name="lamps", target=url, channel="webhook", alarm_types=["lampFailure"]
        ),
        "dijon": await make_route(
            system, name="dijon", target=url, channel="webhook", communes=["Dijon"]
        ),
        "traffic": await make_route(
            system, name="traffic", target=url, channel="webhook", domains=["traffic"]
        ),
        "all": await make_route(system, name="all", target=url, channel="webhook"),
        "off": await make_route(system, name="off", target=url, channel="webhook", enabled=False),
    }
    supply = await make_alarm(runtime)
    lamp = await make_alarm(
        runtime,
        asset_id="SL-DIJ-1",
        commune="dijon",
        alarm_type="lampFailure",
        severity="minor",
        asset_type="streetlight",
    )
    signal = await make_alarm(
        runtime,
        asset_id="TC-CHE-1",
        commune="chenove",
        alarm_type="hardwareFault",
        severity="major",
        domain="traffic",
        asset_type="traffic_controller",
    )
    # Not notified by default: an acknowledgement.
    await add_history(
        runtime, supply, "acknowledged", T0 + timedelta(minutes=1), "active_acknowledged"
    )
    await route_new(runtime.db, runtime.settings, T0 + timedelta(minutes=2))

    got = {(r.route_id, r.alarm_id, r.action) for r in await deliveries(runtime)}
    assert got == {
        (routes["critical"], supply, "raised"),
        (routes["all"], supply, "raised"),
        (routes["lamps"], lamp, "raised"),
        (routes["dijon"], lamp, "raised"),
        (routes["all"], lamp, "raised"),
        (routes["traffic"], signal, "raised"),
        (routes["all"], signal, "raised"),
    }
    dijon = [r for r in await deliveries(runtime) if r.route_id == routes["dijon"]]
    assert dijon[0].commune_code == "dijon"


async def test_routing_by_time_window_across_midnight(
    runtime: Runtime, system: Context, receiver: Receiver
) -> None:
    # Friday nights only, 22:00 to 06:00 in Dijon (UTC+1 in November).
    await make_route(
        system,
        name="friday night",
        channel="webhook",
        target=receiver.url,
        days=[5],
        time_from="22:00",
        time_to="06:00",
    )
    friday = datetime(2026, 11, 27, tzinfo=UTC)
    times = {
        "fri 23:30": friday + timedelta(hours=22, minutes=30),  # in
        "sat 03:00": friday + timedelta(hours=26),  # in: Friday's night
        "fri 03:00": friday + timedelta(hours=2),  # out: Thursday's night
        "sat 07:00": friday + timedelta(hours=30),  # out: morning
        "fri 21:59": friday + timedelta(hours=20, minutes=59),  # out: not yet
    }
    alarms = {
        label: await make_alarm(runtime, asset_id=f"SL-{i}", at=ts)
        for i, (label, ts) in enumerate(times.items())
    }
    await route_new(runtime.db, runtime.settings, friday + timedelta(days=2))
    routed = {r.alarm_id for r in await deliveries(runtime)}
    assert routed == {alarms["fri 23:30"], alarms["sat 03:00"]}


async def test_grouped_and_shelved_alarms_stay_quiet(
    runtime: Runtime, system: Context, receiver: Receiver
) -> None:
    await make_route(system, channel="webhook", target=receiver.url)
    cabinet = await make_alarm(runtime)
    async with runtime.db.write() as session:
        session.add(
            Alarm(
                asset_id="SL-TAL-7",
                asset_type="streetlight",
                commune_code="talant",
                domain="lighting",
                alarm_type="supplyLoss",
                source="device",
                severity="major",
                state="active_unacknowledged",
                active_key="SL-TAL-7|s",
                raised_at=T0,
                last_seen_at=T0,
                occurrences=1,
                detail={},
                updated_at=T0,
                parent_id=cabinet,
            )
        )
        await session.flush()
        child = (await session.execute(select(func.max(Alarm.id)))).scalar_one()
        session.add(
            AlarmHistory(
                alarm_id=child,
                ts=T0,
                action="raised",
                actor="device",
                actor_kind="device",
                state="active_unacknowledged",
                detail={},
            )
        )
    shelved = await make_alarm(runtime, asset_id="SL-TAL-8", at=T0 + timedelta(minutes=1))
    async with runtime.db.write() as session:
        row = await session.get(Alarm, shelved)
        assert row is not None
        row.shelved_until = T0 + timedelta(hours=1)
    await route_new(runtime.db, runtime.settings, T0 + timedelta(minutes=2))
    assert {r.alarm_id for r in await deliveries(runtime)} == {cabinet}


async def test_cursor_never_routes_an_entry_twice(
    runtime: Runtime, system: Context, receiver: Receiver
) -> None:
    await make_route(system, channel="webhook", target=receiver.url)
    for i in range(5):
        await make_alarm(runtime, asset_id=f"SL-{i}")
    first = await route_new(runtime.db, runtime.settings, T0, limit=3)
    assert (first.entries, first.full) == (3, True)
    # Two notifiers at once: the cursor lock lets one route the rest, the other nothing.
    results = await asyncio.gather(
        route_new(runtime.db, runtime.settings, T0), route_new(runtime.db, runtime.settings, T0)
    )
    assert sorted(r.entries for r in results) == [0, 2]
    assert (await route_new(runtime.db, runtime.settings, T0)).entries == 0
    rows = await deliveries(runtime)
    assert len(rows) == 5
    assert len({r.history_id for r in rows}) == 5


async def test_an_entry_committed_late_is_still_routed(
    runtime: Runtime, system: Context, receiver: Receiver
) -> None:
    """On PostgreSQL an entry can become visible after a later one: the skipped id is
    kept as a hole and routed when it appears; a hole that never fills is forgotten."""
    await make_route(system, channel="webhook", target=receiver.url)
    alarm_id = await make_alarm(runtime)

    async def entry(history_id: int) -> None:
        async with runtime.db.write() as session:
            session.add(
                AlarmHistory(
                    id=history_id,
                    alarm_id=alarm_id,
                    ts=T0,
                    action="cleared",
                    actor="device",
                    actor_kind="device",
                    state="cleared_unacknowledged",
                    detail={},
                )
            )

    await entry(1000)
    await entry(1003)
    await route_new(runtime.db, runtime.settings, T0)
    async with runtime.db.read() as session:
        row = await session.get(FeedCursor, FEED)
        assert row is not None
        assert row.last_id == 1003
        holes = [feed.Hole.from_json(h) for h in row.holes]
    assert (holes[-1].first, holes[-1].last) == (1001, 1002)

    await entry(1002)  # a transaction that committed late
    late = await route_new(runtime.db, runtime.settings, T0 + timedelta(seconds=1))
    assert late.entries == 1
    routed = sorted(r.history_id or 0 for r in await deliveries(runtime))
    assert routed[-3:] == [1000, 1002, 1003]

    await route_new(runtime.db, runtime.settings, T0 + feed.HOLE_GRACE)
    async with runtime.db.read() as session:
        row = await session.get(FeedCursor, FEED)
        assert row is not None
        assert row.holes == []


# --- escalation --------------------------------------------------------------------------


async def _escalations(runtime: Runtime) -> list[AlarmHistory]:
    async with runtime.db.read() as session:
        stmt = select(AlarmHistory).where(AlarmHistory.action == "escalated")
        return list((await session.execute(stmt)).scalars())


async def test_escalation_after_n_minutes_exactly_once(
    runtime: Runtime, system: Context, receiver: Receiver
) -> None:
    escalation_route = await make_route(
        system, name="escalations", channel="webhook", target=receiver.url, escalation_only=True
    )
    critical = await make_alarm(runtime)
    acknowledged = await make_alarm(runtime, asset_id="LC-TAL-0002")
    await add_history(
        runtime, acknowledged, "acknowledged", T0 + timedelta(minutes=5), "active_acknowledged"
    )
    await make_alarm(runtime, asset_id="LC-TAL-0003", severity="major")
    settings = runtime.settings

    assert (
        await escalate_due(
            runtime.db, settings, T0 + timedelta(minutes=14, seconds=59), follower=FEED
        )
        == []
    )
    events = await escalate_due(runtime.db, settings, T0 + timedelta(minutes=15), follower=FEED)
    assert [(e.alarm_id, e.action) for e in events if isinstance(e, AlarmChanged)] == [
        (critical, "escalated")
    ]
    assert await escalate_due(runtime.db, settings, T0 + timedelta(minutes=16), follower=FEED) == []
    assert await escalate_due(runtime.db, settings, T0 + timedelta(hours=5), follower=FEED) == []

    [entry] = await _escalations(runtime)
    assert entry.alarm_id == critical
    assert entry.actor == "system:notifications"
    assert entry.actor_kind == "system"
    assert entry.state == "active_unacknowledged"
    assert entry.ts == T0 + timedelta(minutes=15)
    async with runtime.db.read() as session:
        audited = (
            (await session.execute(select(AuditEntry).where(AuditEntry.action == "alarm.escalate")))
            .scalars()
            .all()
        )
    assert [a.target_id for a in audited] == [str(critical)]

    # The escalation flows through routing: only to the escalation route, only once.
    await route_new(runtime.db, settings, T0 + timedelta(minutes=15))
    await send_due(runtime.db, settings, T0 + timedelta(minutes=15))
    rows = await deliveries(runtime)
    assert [(r.route_id, r.alarm_id, r.action) for r in rows] == [
        (escalation_route, critical, "escalated")
    ]
    [body] = receiver.bodies()
    assert body["text"] == (
        "[CRITICAL] supplyLoss on LC-TAL-0001 (Talant) — escalated: unacknowledged for 15 min"
    )


# --- the notifier's loop -----------------------------------------------------------------


async def test_notifier_loop_routes_and_sends(
    runtime: Runtime, system: Context, receiver: Receiver
) -> None:
    await make_route(system, channel="webhook", target=receiver.url)
    stop = asyncio.Event()
    task = asyncio.create_task(Notifier(runtime, poll_s=60).run(stop))
    try:
        alarm_id = await make_alarm(runtime, at=datetime.now(UTC))
        runtime.events.publish(
            AlarmChanged(
                alarm_id,
                "LC-TAL-0001",
                "talant",
                "supplyLoss",
                Severity.CRITICAL,
                "active_unacknowledged",
                "raised",
                datetime.now(UTC),
            )
        )
        for _ in range(500):
            if receiver.received:
                break
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        async with asyncio.timeout(10):
            await task
    assert receiver.bodies()[0]["alarm_id"] == alarm_id
    assert (await one_delivery(runtime)).state == "sent"


# --- the API -----------------------------------------------------------------------------


async def test_route_crud_is_versioned_and_audited(
    runtime: Runtime, client: Any, supervisor: Person, receiver: Receiver
) -> None:
    h = supervisor.headers
    body = {
        "name": "Traffic",
        "channel": "webhook",
        "target": receiver.url,
        "domains": ["traffic"],
        "communes": ["Chenôve", "dijon"],
        "days": [1, 2, 3, 4, 5],
        "time_from": "08:00",
        "time_to": "18:00",
    }
    created = await client.post("/api/v1/notification-routes", json=body, headers=h)
    assert created.status_code == 201, created.text
    route = created.json()
    assert route["communes"] == ["chenove", "dijon"]
    assert route["actions"] == ["raised", "cleared", "escalated"]
    assert (route["version"], route["created_by"]) == (1, "sup")
    rid = route["id"]

    assert (await client.get(f"/api/v1/notification-routes/{rid}", headers=h)).json() == route
    listed = await client.get("/api/v1/notification-routes", headers=h)
    assert [r["id"] for r in listed.json()] == [rid]

    dup = await client.post("/api/v1/notification-routes", json=body, headers=h)
    assert dup.status_code == 409

    changed = await client.patch(
        f"/api/v1/notification-routes/{rid}",
        json={"version": 1, "enabled": False, "severities": ["critical", "major"]},
        headers=h,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["version"], changed.json()["enabled"]) == (2, False)
    assert changed.json()["domains"] == ["traffic"]  # left alone
    stale = await client.patch(
        f"/api/v1/notification-routes/{rid}", json={"version": 1, "enabled": True}, headers=h
    )
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2

    deleted = await client.delete(f"/api/v1/notification-routes/{rid}", headers=h)
    assert deleted.status_code == 204
    gone = await client.get(f"/api/v1/notification-routes/{rid}", headers=h)
    assert gone.status_code == 404

    async with runtime.db.read() as session:
        actions = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.details)
                .where(AuditEntry.action.like("notification.route.%"))
                .order_by(AuditEntry.seq)
            )
        ).all()
    assert [a for a, _ in actions] == [
        "notification.route.create",
        "notification.route.create.refused",
        "notification.route.update",
        "notification.route.update.refused",
        "notification.route.delete",
    ]
    # A webhook's query string (often a token) stays out of the audit log.
    assert "s3cret" not in json.dumps([d for _, d in actions])


BAD_ROUTES: list[tuple[dict[str, Any], str]] = [
    ({"target": "ftp://example.org/x"}, "target"),
    ({"target": "not a url"}, "target"),
    ({"target": ["ops@example.org"]}, "target"),
    ({"channel": "email", "target": ["ops@example.org", "not-an-address"]}, "target[1]"),
    ({"channel": "email", "target": "ops@example.org"}, "target"),
    ({"communes": ["Atlantis"]}, "communes[0]"),
    ({"communes": []}, "communes"),
    ({"time_from": "22:00"}, "time_to"),
    ({"time_from": "25:00", "time_to": "06:00"}, "time_from"),
    ({"severities": ["apocalyptic"]}, "severities.0"),
    ({"actions": []}, "actions"),
]


async def test_bad_routes_are_refused_naming_the_field(
    runtime: Runtime, client: Any, supervisor: Person
) -> None:
    for change, field_name in BAD_ROUTES:
        body: dict[str, Any] = {
            "name": "x",
            "channel": "webhook",
            "target": "https://hooks.example.org/b",
        }
        response = await client.post(
            "/api/v1/notification-routes", json=body | change, headers=supervisor.headers
        )
        assert response.status_code == 422, (change, response.text)
        fields = [e["field"] for e in response.json()["errors"]]
        assert field_name in fields, (change, fields)
    assert await deliveries(runtime) == []
    assert (
        await client.get("/api/v1/notification-routes", headers=supervisor.headers)
    ).json() == []


async def test_email_routes_need_an_smtp_server(runtime: Runtime, system: Context) -> None:
    bare = Runtime(runtime.settings.model_copy(update={"smtp_host": ""}), runtime.db)
    with pytest.raises(InvalidInput) as refused:
        await notification_routes.create_route(
            bare.system_context("tests"),
            RouteCreate(name="mail", channel="email", target=["ops@example.org"]),
        )
    assert "BEFFROI_SMTP_HOST" in str(refused.value)
    assert [e.field for e in refused.value.errors] == ["channel"]

    # A route made while e-mail was configured fails at once, without retries, once it
    # is not any more.
    await make_route(system, name="mail", channel="email", target=["ops@example.org"])
    await make_alarm(runtime)
    await route_new(runtime.db, runtime.settings, T0)
    done = await send_due(runtime.db, bare.settings, T0)
    assert done.failed == 1
    row = await one_delivery(runtime)
    assert (row.state, row.attempts) == ("failed", 1)
    assert row.last_error == "e-mail is not configured: BEFFROI_SMTP_HOST is empty"


async def test_a_name_taken_at_the_same_moment_is_a_refused_conflict(
    runtime: Runtime, system: Context, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_route(system, name="Traffic", channel="webhook", target=receiver.url)
    other = await make_route(system, name="Lamps", channel="webhook", target=receiver.url)

    # The other writer's route is not there yet when the name is looked up, only when
    # this one is written: the unique index answers, as a conflict.
    async def looked_too_early(*args: Any) -> None:
        return None

    monkeypatch.setattr(notification_routes, "_name_free", looked_too_early)
    with pytest.raises(Conflict):
        await make_route(system, name="Traffic", channel="webhook", target=receiver.url)
    with pytest.raises(Conflict):
        await notification_routes.update_route(
            system, other, RouteUpdate(version=1, name="Traffic")
        )
    async with runtime.db.read() as session:
        actions = (
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.action.like("notification.route.%"))
                .order_by(AuditEntry.seq)
            )
        ).all()
    assert actions[-2:] == [
        "notification.route.create.refused",
        "notification.route.update.refused",
    ]


async def test_operators_may_not_manage_routes(
    system: Context, client: Any, receiver: Receiver
) -> None:
    operator = await make_person(system, "op", [Role.OPERATOR], domains=[Domain.LIGHTING])
    body = {"name": "x", "channel": "webhook", "target": receiver.url}
    assert (
        await client.post("/api/v1/notification-routes", json=body, headers=operator.headers)
    ).status_code == 403
    assert (
        await client.get("/api/v1/notification-routes", headers=operator.headers)
    ).status_code == 403
    assert (
        await client.get("/api/v1/notification-deliveries", headers=operator.headers)
    ).status_code == 403


async def test_commune_scope(
    runtime: Runtime, system: Context, client: Any, receiver: Receiver
) -> None:
    local = await make_person(system, "talant-sup", [Role.SUPERVISOR], communes=["talant"])
    h = local.headers
    body = {"channel": "webhook", "target": receiver.url}

    async def post(**extra: Any) -> Any:
        return await client.post("/api/v1/notification-routes", json=body | extra, headers=h)

    mine = await post(name="talant", communes=["talant"])
    assert mine.status_code == 201, mine.text
    assert (await post(name="dijon", communes=["dijon"])).status_code == 403
    assert (await post(name="both", communes=["talant", "dijon"])).status_code == 403
    everywhere = await post(name="everywhere")
    assert everywhere.status_code == 403
    assert "metropolis-wide" in everywhere.json()["detail"]

    theirs = await make_route(
        system, name="dijon", channel="webhook", target=receiver.url, communes=["dijon"]
    )
    await make_route(system, name="all", channel="webhook", target=receiver.url)
    listed = await client.get("/api/v1/notification-routes", headers=h)
    assert [r["name"] for r in listed.json()] == ["talant"]
    assert (await client.get(f"/api/v1/notification-routes/{theirs}", headers=h)).status_code == 404
    stolen = await client.patch(
        f"/api/v1/notification-routes/{mine.json()['id']}",
        json={"version": 1, "communes": ["dijon"]},
        headers=h,
    )
    assert stolen.status_code == 403

    talant_alarm = await make_alarm(runtime)
    dijon_alarm = await make_alarm(runtime, asset_id="SL-DIJ-1", commune="dijon")
    await route_new(runtime.db, runtime.settings, T0)
    seen = await client.get("/api/v1/notification-deliveries", headers=h)
    assert {d["alarm_id"] for d in seen.json()} == {talant_alarm}
    hidden = await client.get(f"/api/v1/notification-deliveries?alarm_id={dijon_alarm}", headers=h)
    assert hidden.json() == []


async def test_test_endpoint_sends_now_and_returns_the_record(
    client: Any, supervisor: Person, receiver: Receiver, smtp: Smtp
) -> None:
    h = supervisor.headers
    hook = (
        await client.post(
            "/api/v1/notification-routes",
            json={"name": "hook", "channel": "webhook", "target": receiver.url},
            headers=h,
        )
    ).json()
    sent = await client.post(f"/api/v1/notification-routes/{hook['id']}/test", headers=h)
    assert sent.status_code == 200, sent.text
    assert (sent.json()["state"], sent.json()["attempts"], sent.json()["action"]) == (
        "sent",
        1,
        "test",
    )
    assert receiver.bodies()[0]["kind"] == "test"

    receiver.answers = [500]
    failed = await client.post(f"/api/v1/notification-routes/{hook['id']}/test", headers=h)
    assert failed.json()["state"] == "failed"
    assert failed.json()["last_error"].startswith("HTTP 500")

    mail = (
        await client.post(
            "/api/v1/notification-routes",
            json={"name": "mail", "channel": "email", "target": ["ops@example.org"]},
            headers=h,
        )
    ).json()
    by_mail = await client.post(f"/api/v1/notification-routes/{mail['id']}/test", headers=h)
    assert by_mail.json()["state"] == "sent"
    [(_to, message)] = smtp.mailbox.messages
    assert message["Subject"] == "[TEST] Beffroi notification route 'mail' works"
    states = await client.get("/api/v1/notification-deliveries?state=failed", headers=h)
    assert [d["id"] for d in states.json()] == [failed.json()["id"]]
