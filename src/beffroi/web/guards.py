"""Refusing, at the edge, input no part of Beffroi can store."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from beffroi.web.problems import PROBLEM_TYPE_BASE

# A raw NUL byte or its URL encoding (path, query); a raw NUL or its JSON escape (body).
_NUL_URL = re.compile(rb"\x00|%00")
_NUL_BODY = re.compile(rb"\x00|\\u0000", re.IGNORECASE)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Binary uploads (an intervention's photos) are bytes, not text: NUL is ordinary there.
_BINARY_TYPES = (b"image/",)


class RejectNul:
    """Answer 422 to a request whose path, query or body holds a NUL character.

    PostgreSQL cannot store NUL in text; refused here, the caller gets a clear error naming
    the cause instead of a storage failure deep inside a use case. Paths under
    ``exempt_prefixes`` (device ingest, which counts such messages as rejected) are left to
    their own validation; so are binary bodies (``Content-Type: image/…``), whose area
    checks them itself.
    """

    def __init__(self, app: ASGIApp, exempt_prefixes: Sequence[str] = ()) -> None:
        self.app = app
        self.exempt = tuple(exempt_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        where = None
        if "\x00" in scope["path"] or _NUL_URL.search(scope.get("raw_path") or b""):
            where = "path"
        elif _NUL_URL.search(scope.get("query_string", b"")):
            where = "query"
        replay: list[Message] = []
        if where is None and scope["method"] in _BODY_METHODS and not _binary(scope):
            tail = b""
            while True:
                message = await receive()
                replay.append(message)
                chunk = message.get("body", b"")
                if _NUL_BODY.search(tail + chunk):
                    where = "body"
                tail = chunk[-6:]
                if not message.get("more_body") or message["type"] != "http.request":
                    break
        if where is not None:
            await _refuse(scope, send, where)
            return
        if not replay:
            await self.app(scope, receive, send)
            return

        async def replayed() -> Message:
            return replay.pop(0) if replay else await receive()

        await self.app(scope, replayed, send)


def _binary(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return bool(value.lower().lstrip().startswith(_BINARY_TYPES))
    return False


async def _refuse(scope: Scope, send: Send, where: str) -> None:
    body = orjson.dumps(
        {
            "type": PROBLEM_TYPE_BASE + "invalid-input",
            "title": "Invalid input",
            "status": 422,
            "detail": f"{where}: NUL characters are not accepted",
            "instance": scope["path"].replace("\x00", "\\0"),
            "errors": [{"field": where, "message": "NUL characters are not accepted"}],
        }
    )
    headers: list[Any] = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 422, "headers": headers})
    await send({"type": "http.response.body", "body": body})
