"""Who an HTTP request or a WebSocket speaks for: a bearer token, or a console session."""

from __future__ import annotations

from beffroi.accounts.signin import Authenticated, from_session, from_token
from beffroi.core.errors import NotAuthenticated
from beffroi.db import Database


async def authenticate_request(
    db: Database, authorization: str | None, cookie: str | None
) -> Authenticated:
    """Who a bearer token (preferred) or a console session cookie names, or
    :class:`NotAuthenticated`. Shared by HTTP routes and the live stream's WebSocket."""
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("Authorization must be 'Bearer <token>'")
        found = await from_token(db, token.strip())
        if found is None:
            raise NotAuthenticated("the token is unknown, expired or revoked")
        return found
    if not cookie:
        raise NotAuthenticated("sign in, or send a bearer token")
    found = await from_session(db, cookie)
    if found is None:
        raise NotAuthenticated("the session has expired; sign in again")
    return found
