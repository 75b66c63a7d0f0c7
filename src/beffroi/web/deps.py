"""Request dependencies: the runtime, who is calling, and the per-request context.

Use the ``Annotated`` aliases in routes: ``ctx: Ctx`` gives an authenticated context.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Path, Request

from beffroi.accounts import service as accounts
from beffroi.context import Context, Runtime
from beffroi.errors import NotAuthenticated, PermissionDenied
from beffroi.web.problems import SAFE_METHODS

SESSION_COOKIE = "beffroi_session"
MAX_ROW_ID = 2**31 - 1  # INTEGER primary keys: anything larger names nothing

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Numeric id")]
CSRF_HEADER = "X-CSRF-Token"


def get_runtime(request: Request) -> Runtime:
    """The process runtime stored on the app at start-up."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def credentials(
    runtime: Runtime, authorization: str | None, cookie: str | None
) -> accounts.Authenticated:
    """Who a bearer token (preferred) or a console session cookie names, or
    :class:`NotAuthenticated`. Shared by HTTP routes and the live stream's WebSocket."""
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("Authorization must be 'Bearer <token>'")
        found = await accounts.from_token(runtime.db, token.strip())
        if found is None:
            raise NotAuthenticated("the token is unknown, expired or revoked")
        return found
    if not cookie:
        raise NotAuthenticated("sign in, or send a bearer token")
    found = await accounts.from_session(runtime.db, cookie)
    if found is None:
        raise NotAuthenticated("the session has expired; sign in again")
    return found


def _same_secret(sent: str, expected: str) -> bool:
    """Constant-time comparison of a secret sent in a header with the expected one.

    Compared as bytes: ``compare_digest`` raises on ``str`` with non-ASCII characters,
    which any client may put in a header (read as Latin-1).
    """
    return secrets.compare_digest(sent.encode(), expected.encode())


async def authenticate(request: Request, runtime: RuntimeDep) -> accounts.Authenticated:
    """A bearer token, or a console session cookie plus its CSRF token on changes."""
    header = request.headers.get("authorization")
    found = await credentials(runtime, header, request.cookies.get(SESSION_COOKIE))
    if header is None and request.method not in SAFE_METHODS:
        if not found.csrf_token or not _same_secret(
            request.headers.get(CSRF_HEADER, ""), found.csrf_token
        ):
            raise PermissionDenied(f"missing or wrong {CSRF_HEADER} header")
    request.state.principal = found.principal
    return found


AuthDep = Annotated[accounts.Authenticated, Depends(authenticate)]


async def get_context(runtime: RuntimeDep, auth: AuthDep) -> Context:
    """The context of an authenticated call."""
    return runtime.context(auth.principal)


Ctx = Annotated[Context, Depends(get_context)]
