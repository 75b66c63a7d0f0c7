"""What a notification says: the JSON payload a webhook receives, and the e-mail made of it.

The payload is built when the delivery is made and stored with it, so every attempt
sends the same thing and the delivery record shows exactly what went out.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from beffroi.alarms.lifecycle import Action
from beffroi.alarms.queries import AlarmFacts, HistoryEntry


def alarm_link(alarm_id: int) -> str:
    """The console's path of an alarm."""
    return f"/alarms/{alarm_id}"


def headline(
    severity: str, alarm_type: str, asset_id: str, commune_name: str, action: str, note: str = ""
) -> str:
    """One line saying it all, e.g. ``[CRITICAL] supplyLoss on LC-TAL-0001 (Talant) — raised``."""
    tail = f"{action}: {note}" if note else action
    return f"[{severity.upper()}] {alarm_type} on {asset_id} ({commune_name}) — {tail}"


def _note(entry: HistoryEntry) -> str:
    detail = entry.detail or {}
    if entry.action == Action.ESCALATED and "after_min" in detail:
        return f"unacknowledged for {detail['after_min']:g} min"
    reason = detail.get("reason")
    return str(reason)[:200] if reason else ""


def alarm_payload(
    alarm: AlarmFacts, entry: HistoryEntry, commune_name: str, route_name: str
) -> dict[str, Any]:
    """The payload about one history entry of one alarm."""
    return {
        "kind": "alarm",
        "text": headline(
            alarm.severity,
            alarm.alarm_type,
            alarm.asset_id,
            commune_name,
            entry.action,
            _note(entry),
        ),
        "route": route_name,
        "history_id": entry.id,
        "alarm_id": alarm.id,
        "asset_id": alarm.asset_id,
        "asset_type": alarm.asset_type,
        "commune": alarm.commune_code,
        "commune_name": commune_name,
        "domain": alarm.domain,
        "alarm_type": alarm.alarm_type,
        "severity": alarm.severity,
        "state": entry.state,
        "action": entry.action,
        "actor": entry.actor,
        "at": entry.ts.isoformat(),
        "raised_at": alarm.raised_at.isoformat(),
        "occurrences": alarm.occurrences,
        "detail": entry.detail or {},
        "link": alarm_link(alarm.id),
    }


def trial_payload(route_name: str, now: datetime) -> dict[str, Any]:
    """The payload of a test notification: says what it is, and nothing else happened."""
    return {
        "kind": "test",
        "text": f"[TEST] Beffroi notification route {route_name!r} works",
        "route": route_name,
        "at": now.isoformat(),
    }


def _local(value: str, zone: ZoneInfo) -> str:
    moment = datetime.fromisoformat(value)
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M:%S %Z} ({value})"


def body(payload: dict[str, Any], zone: ZoneInfo, public_url: str = "") -> str:
    """The plain text of an e-mail: the headline, then one fact per line."""
    lines = [str(payload.get("text", "")), ""]
    if payload.get("kind") == "test":
        lines.append(
            f"This is a test of the route {payload.get('route')!r}, sent at "
            f"{_local(str(payload['at']), zone)}. No alarm is concerned."
        )
        return "\n".join(lines) + "\n"
    if payload.get("kind") == "message":
        lines.append(f"Sent by Beffroi to the list {payload.get('route')!r}.")
        return "\n".join(lines) + "\n"
    facts = [
        ("Alarm", payload.get("alarm_id")),
        ("Action", payload.get("action")),
        ("Severity", payload.get("severity")),
        ("Type", payload.get("alarm_type")),
        ("Asset", f"{payload.get('asset_id')} ({payload.get('asset_type')})"),
        ("Commune", payload.get("commune_name")),
        ("Domain", payload.get("domain")),
        ("State", payload.get("state")),
        ("At", _local(str(payload["at"]), zone)),
        ("Raised at", _local(str(payload["raised_at"]), zone)),
        ("Occurrences", payload.get("occurrences")),
        ("By", payload.get("actor")),
    ]
    lines += [f"{name}: {value}" for name, value in facts]
    link = str(payload.get("link", ""))
    lines += [
        "",
        f"Open: {public_url.rstrip('/')}{link}" if public_url else f"Console path: {link}",
    ]
    lines += ["", f"Sent by Beffroi for the notification route {payload.get('route')!r}."]
    return "\n".join(lines) + "\n"


def email(
    payload: dict[str, Any], sender: str, recipients: list[str], zone: ZoneInfo, public_url: str
) -> EmailMessage:
    """The e-mail of a payload."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = str(payload.get("text", "Beffroi notification"))
    message.set_content(body(payload, zone, public_url))
    return message
