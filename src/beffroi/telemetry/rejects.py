"""How a rejected message is kept for operators to read: as text where it is text."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from beffroi.telemetry.decode import Rejection

# The start of a payload that is kept: enough to see what a device sent.
PAYLOAD_SAMPLE_BYTES = 300


def _clean(text: str, limit: int) -> str:
    # Device-chosen text: NUL is the one character PostgreSQL cannot store.
    return text[:limit].replace("\x00", "\\0")


def payload_sample(payload: bytes) -> tuple[str, str]:
    """(text, encoding) of the start of ``payload``: ``utf-8`` text when it decodes as
    UTF-8 (a character cut in two at the end is dropped), else ``base64``."""
    head = payload[:PAYLOAD_SAMPLE_BYTES]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Cut inside the last character only: the rest is text.
        if exc.start >= len(head) - 3 and len(payload) > PAYLOAD_SAMPLE_BYTES:
            try:
                return _clean(head[: exc.start].decode("utf-8"), 600), "utf-8"
            except UnicodeDecodeError:
                pass
        return base64.b64encode(head).decode("ascii"), "base64"
    return _clean(text, 600), "utf-8"


def sample(rejection: Rejection, now: datetime) -> dict[str, Any]:
    """The ``rejected_messages`` row of one rejection."""
    text, encoding = payload_sample(rejection.payload)
    return {
        "received_at": now,
        "reason": rejection.reason.value,
        "topic": _clean(rejection.topic, 300),
        "asset_id": _clean(rejection.asset_id, 64) if rejection.asset_id else None,
        "detail": _clean(rejection.detail, 500),
        "payload": text,
        "payload_encoding": encoding,
        "payload_size": len(rejection.payload),
    }
