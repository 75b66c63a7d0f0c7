"""Sending one notification: a webhook POST or an e-mail. Each either returns (sent) or
raises :class:`SendFailed` saying why, short enough to store."""

from __future__ import annotations

from typing import Any

import aiosmtplib
import httpx

from beffroi.config import Settings
from beffroi.notifications import messages

ERROR_MAX = 500


class SendFailed(Exception):
    """A notification did not go out. ``final`` ones are not worth another attempt."""

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message[:ERROR_MAX])
        self.final = final


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def post_webhook(
    client: httpx.AsyncClient, url: str, payload: dict[str, Any], timeout_s: float
) -> None:
    """POST ``payload`` as JSON to ``url``; only a 2xx answer counts as delivered.

    Redirects are not followed: a receiver that moved is a failure to see, not to guess.
    """
    try:
        response = await client.post(
            url,
            json=payload,
            timeout=timeout_s,
            follow_redirects=False,
            headers={"User-Agent": "Beffroi-notifier"},
        )
    except httpx.HTTPError as exc:
        raise SendFailed(_describe(exc)) from exc
    if not response.is_success:
        snippet = response.text[:200].strip()
        raise SendFailed(f"HTTP {response.status_code}" + (f": {snippet}" if snippet else ""))


async def send_email(settings: Settings, recipients: list[str], payload: dict[str, Any]) -> None:
    """Send the e-mail of ``payload`` through the configured SMTP server."""
    if not settings.smtp_host:
        raise SendFailed("e-mail is not configured: BEFFROI_SMTP_HOST is empty", final=True)
    message = messages.email(
        payload, settings.smtp_from, recipients, settings.zone, settings.public_url
    )
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            # Explicit either way: no silent fallback to plain text when TLS was asked for.
            start_tls=settings.smtp_starttls,
            timeout=settings.notification_timeout_s,
        )
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise SendFailed(_describe(exc)) from exc


async def send(
    settings: Settings,
    client: httpx.AsyncClient,
    channel: str,
    target: Any,
    payload: dict[str, Any],
) -> None:
    """Send ``payload`` on ``channel`` to ``target``."""
    if channel == "webhook":
        await post_webhook(client, str(target), payload, settings.notification_timeout_s)
    elif channel == "email":
        await send_email(settings, [str(t) for t in target], payload)
    else:
        raise SendFailed(f"unknown channel {channel!r}", final=True)
