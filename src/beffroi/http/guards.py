"""Refusing, at the edge, input no part of Beffroi can store or compare."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from beffroi.http.jsonvalues import NOT_FINITE, non_finite_paths
from beffroi.http.problems import PROBLEM_TYPE_BASE

# A raw NUL byte or its URL encoding (path, query); a raw NUL or its JSON escape (body).
_NUL_URL = re.compile(rb"\x00|%00")
_NUL_BODY = re.compile(rb"\x00|\\u0000", re.IGNORECASE)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Binary uploads (an intervention's photos; a citizen report's form with its photo) are
# bytes, not text: NUL is ordinary there. A multipart route checks its text fields itself.
_BINARY_TYPES = (b"image/", b"multipart/form-data")
# What Python's json reads as a non-finite float: its two constants, or a number too large
# for a double, which takes an exponent or hundreds of digits. A body with none of these
# is not parsed here.
_MAYBE_NOT_FINITE = re.compile(rb"NaN|Infinity|[0-9][eE]|[0-9]{200}")
# Larger JSON bodies go only to the asset import, which reads them with orjson (it refuses
# non-finite numbers itself): parsing hundreds of megabytes twice is not worth it.
MAX_CHECKED_JSON = 32 * 1024 * 1024
MAX_NAMED = 20


class RejectUnstorable:
    """Answer 422 to a request whose path, query or body holds a NUL character, or whose
    JSON body holds a non-finite number (``NaN``, ``Infinity``, ``1e999``).

    PostgreSQL cannot store NUL in text nor NaN in ``jsonb``, and NaN passes every range
    check; refused here, for every route at once, the caller gets a clear error naming
    where it is instead of a failure deep inside a use case (or a NaN sent to a device).
    Paths under ``exempt_prefixes`` (device ingest, which counts such messages as rejected)
    are left to their own validation; so are binary bodies (``Content-Type: image/…``),
    whose area checks them itself.
    """

    def __init__(self, app: ASGIApp, exempt_prefixes: Sequence[str] = ()) -> None:
        self.app = app
        self.exempt = tuple(exempt_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        errors: list[dict[str, str]] = []
        if "\x00" in scope["path"] or _NUL_URL.search(scope.get("raw_path") or b""):
            errors = [_nul("path")]
        elif _NUL_URL.search(scope.get("query_string", b"")):
            errors = [_nul("query")]
        replay: list[Message] = []
        if not errors and scope["method"] in _BODY_METHODS and not _binary(scope):
            replay, has_nul, size = await _read_body(receive)
            if has_nul:
                errors = [_nul("body")]
            elif _json(scope) and size <= MAX_CHECKED_JSON:
                errors = _non_finite(b"".join(m.get("body", b"") for m in replay))
        if errors:
            await _refuse(scope, send, errors)
            return
        if not replay:
            await self.app(scope, receive, send)
            return

        async def replayed() -> Message:
            return replay.pop(0) if replay else await receive()

        await self.app(scope, replayed, send)


async def _read_body(receive: Receive) -> tuple[list[Message], bool, int]:
    """The body's messages, whether it holds a NUL, and its size (looked at chunk by
    chunk: an import of hundreds of megabytes is not copied to be searched)."""
    messages: list[Message] = []
    tail = b""
    has_nul = False
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        chunk = message.get("body", b"")
        size += len(chunk)
        has_nul = has_nul or bool(_NUL_BODY.search(tail + chunk))
        tail = chunk[-6:]
        if not message.get("more_body") or message["type"] != "http.request":
            return messages, has_nul, size


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).lower()
    return b""


def _binary(scope: Scope) -> bool:
    return _header(scope, b"content-type").lstrip().startswith(_BINARY_TYPES)


def _json(scope: Scope) -> bool:
    # The bodies FastAPI reads as JSON: application/json and application/*+json.
    media = _header(scope, b"content-type").split(b";")[0].strip()
    return media == b"application/json" or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )


def _non_finite(body: bytes) -> list[dict[str, str]]:
    if not _MAYBE_NOT_FINITE.search(body):
        return []
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return []  # not JSON: the route says so, naming where
    paths = non_finite_paths(document)
    return [{"field": path, "message": NOT_FINITE} for path in paths[:MAX_NAMED]]


def _nul(where: str) -> dict[str, str]:
    return {"field": where, "message": "NUL characters are not accepted"}


async def _refuse(scope: Scope, send: Send, errors: list[dict[str, str]]) -> None:
    body = orjson.dumps(
        {
            "type": PROBLEM_TYPE_BASE + "invalid-input",
            "title": "Invalid input",
            "status": 422,
            "detail": "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]),
            "instance": scope["path"].replace("\x00", "\\0"),
            "errors": errors,
        }
    )
    headers: list[Any] = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 422, "headers": headers})
    await send({"type": "http.response.body", "body": body})
