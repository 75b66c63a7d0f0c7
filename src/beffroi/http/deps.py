"""Request dependencies: the runtime, who is calling, and the per-request context.

Use the ``Annotated`` aliases in routes: ``ctx: Ctx`` gives an authenticated context.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Protocol

from fastapi import Depends, Path, Request

from beffroi.core.context import Context, Runtime
from beffroi.core.errors import PermissionDenied
from beffroi.core.principal import Principal
from beffroi.db import Database
from beffroi.http.problems import SAFE_METHODS

SESSION_COOKIE = "beffroi_session"
MAX_ROW_ID = 2**31 - 1  # INTEGER primary keys: anything larger names nothing

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Numeric id")]
CSRF_HEADER = "X-CSRF-Token"


def get_runtime(request: Request) -> Runtime:
    """The process runtime stored on the app at start-up."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


class Caller(Protocol):
    """Who a request's credentials name: a principal, and the CSRF token its console
    session expects on changes (none for a bearer token)."""

    @property
    def principal(self) -> Principal:
        """The principal acting."""
        ...

    @property
    def csrf_token(self) -> str | None:
        """The session's CSRF token, if the credential is a console session."""
        ...


# (database, Authorization header, session cookie) -> the caller, or NotAuthenticated. The
# accounts area provides it; the application puts it on ``app.state.authenticate``.
Authenticate = Callable[[Database, str | None, str | None], Awaitable[Caller]]


def _same_secret(sent: str, expected: str) -> bool:
    """Constant-time comparison of a secret sent in a header with the expected one.

    Compared as bytes: ``compare_digest`` raises on ``str`` with non-ASCII characters,
    which any client may put in a header (read as Latin-1).
    """
    return secrets.compare_digest(sent.encode(), expected.encode())


async def authenticate(request: Request, runtime: RuntimeDep) -> Caller:
    """A bearer token, or a console session cookie plus its CSRF token on changes."""
    header = request.headers.get("authorization")
    check: Authenticate = request.app.state.authenticate
    found = await check(runtime.db, header, request.cookies.get(SESSION_COOKIE))
    needs_csrf = header is None and request.method not in SAFE_METHODS
    if needs_csrf and not (
        found.csrf_token and _same_secret(request.headers.get(CSRF_HEADER, ""), found.csrf_token)
    ):
        raise PermissionDenied(f"missing or wrong {CSRF_HEADER} header")
    request.state.principal = found.principal
    return found


AuthDep = Annotated[Caller, Depends(authenticate)]


async def get_context(runtime: RuntimeDep, auth: AuthDep) -> Context:
    """The context of an authenticated call."""
    return runtime.context(auth.principal)


Ctx = Annotated[Context, Depends(get_context)]
