"""Routes of sign-in, users and API tokens."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from beffroi.accounts import service, signin, tokens
from beffroi.accounts.abilities import abilities_of
from beffroi.accounts.schemas import (
    LoginIn,
    MeOut,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from beffroi.http.deps import SESSION_COOKIE, AuthDep, Ctx, RowId, RuntimeDep


def _signed_in(auth: AuthDep) -> signin.Authenticated:
    """The account behind the request (this area's own credentials carry it)."""
    if not isinstance(auth, signin.Authenticated):
        raise TypeError("the application's authenticator is not the accounts area's")
    return auth


SignedIn = Annotated[signin.Authenticated, Depends(_signed_in)]

auth_router = APIRouter(prefix="/auth", tags=["auth"])
users_router = APIRouter(prefix="/users", tags=["users"])
tokens_router = APIRouter(prefix="/tokens", tags=["tokens"])


def _client(request: Request) -> str:
    host = request.client.host if request.client else "?"
    return f"{host} {request.headers.get('user-agent', '')}"[:200]


@auth_router.post("/login")
async def login(body: LoginIn, request: Request, response: Response, runtime: RuntimeDep) -> MeOut:
    """Open a console session: sets an HttpOnly cookie and returns the CSRF token to send
    back in ``X-CSRF-Token`` on every change."""
    ttl = timedelta(hours=runtime.settings.session_ttl_hours)
    signed = await signin.sign_in(runtime.db, body.username, body.password, _client(request), ttl)
    response.set_cookie(
        SESSION_COOKIE,
        signed.cookie,
        max_age=int(ttl.total_seconds()),
        httponly=True,
        secure=runtime.settings.secure_cookies,
        samesite="strict",
        path="/",
    )
    principal = signin.principal_for(signed.user, "session")
    return MeOut(
        user=UserOut.model_validate(signed.user),
        **asdict(abilities_of(principal)),
        csrf_token=signed.csrf_token,
    )


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, response: Response, runtime: RuntimeDep, auth: SignedIn) -> None:
    """Close the console session."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await signin.sign_out(runtime.db, cookie, auth.principal)
    response.delete_cookie(SESSION_COOKIE, path="/")


@auth_router.get("/me")
async def me(auth: SignedIn) -> MeOut:
    """Who you are, what you may do, and (for console sessions) the CSRF token."""
    return MeOut(
        user=UserOut.model_validate(auth.user),
        **asdict(abilities_of(auth.principal)),
        csrf_token=auth.csrf_token,
    )


@users_router.get("")
async def list_users(ctx: Ctx) -> list[UserOut]:
    """Accounts within your scope."""
    return [UserOut.model_validate(u) for u in await service.list_users(ctx)]


@users_router.post("", status_code=status.HTTP_201_CREATED)
async def create_user(ctx: Ctx, body: UserCreate) -> UserOut:
    """Create an account."""
    return UserOut.model_validate(await service.create_user(ctx, body))


@users_router.get("/{username}")
async def get_user(ctx: Ctx, username: str) -> UserOut:
    """One account."""
    return UserOut.model_validate(await service.get_user(ctx, username))


@users_router.patch("/{username}")
async def update_user(ctx: Ctx, username: str, body: UserUpdate) -> UserOut:
    """Change roles, domains, communes, password; disable or enable."""
    return UserOut.model_validate(await service.update_user(ctx, username, body))


@tokens_router.get("")
async def list_tokens(ctx: Ctx, username: str | None = None) -> list[TokenOut]:
    """Your API tokens (or another user's, for account managers)."""
    return [TokenOut.model_validate(t) for t in await tokens.list_tokens(ctx, username)]


@tokens_router.post("", status_code=status.HTTP_201_CREATED)
async def create_token(ctx: Ctx, body: TokenCreate) -> TokenCreated:
    """Issue an API token. Its secret is in this answer only."""
    token, secret = await tokens.create_token(ctx, body)
    return TokenCreated(**TokenOut.model_validate(token).model_dump(), token=secret)


@tokens_router.delete("/{token_id}")
async def revoke_token(ctx: Ctx, token_id: RowId) -> TokenOut:
    """Revoke an API token."""
    return TokenOut.model_validate(await tokens.revoke_token(ctx, token_id))
