"""Sign-in, console sessions with CSRF, API tokens and user management."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from beffroi.accounts import service as accounts
from beffroi.accounts import tokens
from beffroi.accounts.models import ApiToken, User
from beffroi.accounts.schemas import TokenCreate, UserCreate, UserUpdate
from beffroi.core.context import Context, Runtime
from beffroi.core.errors import Conflict, InvalidInput, NotFound
from beffroi.core.principal import Role
from tests.support import PASSWORD, Person, audit_seq, audited_since, make_person, table_rows

pytestmark = pytest.mark.asyncio


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    """Sign in through the console endpoint."""
    return await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )


async def test_console_session_needs_csrf_on_changes(
    client: httpx.AsyncClient, admin: Person
) -> None:
    r = await login(client, "admin")
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    assert "beffroi_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    csrf = r.json()["csrf_token"]

    # Reads work with the cookie alone.
    assert (await client.get("/api/v1/communes")).status_code == 200
    body = {"name": "Nouvelle", "lat": 47.3, "lon": 5.0}
    refused = await client.post("/api/v1/communes", json=body)
    assert refused.status_code == 403
    assert "X-CSRF-Token" in refused.json()["detail"]
    wrong = await client.post("/api/v1/communes", json=body, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    ok = await client.post("/api/v1/communes", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text

    me = await client.get("/api/v1/auth/me")
    assert me.json()["user"]["username"] == "admin"
    assert me.json()["csrf_token"] == csrf

    out = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert (await client.get("/api/v1/communes")).status_code == 401


async def test_bad_password_is_audited_and_locks_after_repeats(
    client: httpx.AsyncClient, admin: Person, runtime: Runtime
) -> None:
    r = await login(client, "admin", "wrong password!")
    assert r.status_code == 401
    r = await login(client, "nobody", "wrong password!")
    assert r.status_code == 401
    audit = await client.get(
        "/api/v1/audit?action=auth.login&outcome=denied", headers=admin.headers
    )
    assert {e["target_id"] for e in audit.json()["items"]} == {"admin", "nobody"}

    for _ in range(9):
        await login(client, "admin", "wrong password!")
    locked = await login(client, "admin")
    assert locked.status_code == 401, "ten failures lock the account even for the right password"
    async with runtime.db.read() as session:
        user = (await session.execute(select(User).where(User.username == "admin"))).scalar_one()
    assert user.locked_until is not None


async def test_tokens_are_hashed_expire_and_revoke(
    client: httpx.AsyncClient, admin: Person, runtime: Runtime
) -> None:
    r = await client.post(
        "/api/v1/tokens", json={"name": "script", "expires_in_days": 1}, headers=admin.headers
    )
    assert r.status_code == 201, r.text
    created = r.json()
    secret = created["token"]
    async with runtime.db.read() as session:
        stored = (await session.execute(select(ApiToken.token_hash))).scalars().all()
    assert secret not in stored
    assert all(len(h) == 64 for h in stored)

    bearer = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/api/v1/assets", headers=bearer)).status_code == 200
    listed = await client.get("/api/v1/tokens", headers=admin.headers)
    assert "token" not in listed.json()[0]
    revoked = await client.delete(f"/api/v1/tokens/{created['id']}", headers=admin.headers)
    assert revoked.json()["revoked_at"] is not None
    assert (await client.get("/api/v1/assets", headers=bearer)).status_code == 401


async def test_disabling_a_user_ends_sessions_and_tokens(
    client: httpx.AsyncClient, admin: Person, system: Context
) -> None:
    bob = await make_person(system, "bob", [Role.OPERATOR])
    assert (await client.get("/api/v1/assets", headers=bob.headers)).status_code == 200
    r = await client.patch("/api/v1/users/bob", json={"disabled": True}, headers=admin.headers)
    assert r.status_code == 200
    assert r.json()["disabled"] is True
    assert (await client.get("/api/v1/assets", headers=bob.headers)).status_code == 401
    assert (await login(client, "bob")).status_code == 401


async def test_user_management_respects_scope(
    client: httpx.AsyncClient, admin: Person, system: Context
) -> None:
    talant_admin = await make_person(system, "tadmin", [Role.ADMIN], communes=["talant"])
    body = {"username": "newbie", "password": PASSWORD, "roles": ["viewer"]}
    # A Talant administrator cannot create a metropolis-wide account...
    r = await client.post("/api/v1/users", json=body, headers=talant_admin.headers)
    assert r.status_code == 403
    # ...nor one in Chenôve, but can in Talant.
    r = await client.post(
        "/api/v1/users", json={**body, "communes": ["Chenôve"]}, headers=talant_admin.headers
    )
    assert r.status_code == 403
    r = await client.post(
        "/api/v1/users", json={**body, "communes": ["Talant"]}, headers=talant_admin.headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["communes"] == ["talant"]
    names = {
        u["username"]
        for u in (await client.get("/api/v1/users", headers=talant_admin.headers)).json()
    }
    assert names == {"tadmin", "newbie"}

    r = await client.post(
        "/api/v1/users",
        json={**body, "username": "op", "roles": ["operator"]},
        headers=admin.headers,
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "domains"
    r = await client.post(
        "/api/v1/users",
        json={**body, "username": "weak", "password": "short"},
        headers=admin.headers,
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "password"


async def test_refused_changes_are_audited_and_write_nothing(
    runtime: Runtime, system: Context, admin: Person
) -> None:
    tables = ("users", "api_tokens", "web_sessions")
    before, seq = await table_rows(runtime, *tables), await audit_seq(runtime)

    with pytest.raises(Conflict):
        await accounts.create_user(
            system, UserCreate(username="admin", password=PASSWORD, roles=[Role.VIEWER])
        )
    # The new scope is checked before the roles: it must not be kept when they are refused.
    with pytest.raises(InvalidInput, match="domain"):
        await accounts.update_user(
            system, "admin", UserUpdate(communes=["Talant"], roles=[Role.OPERATOR])
        )
    with pytest.raises(NotFound):
        await tokens.create_token(system, TokenCreate(name="script", username="ghost"))
    with pytest.raises(NotFound):
        await tokens.revoke_token(system, 999999)

    assert await table_rows(runtime, *tables) == before
    refusals = await audited_since(runtime, seq)
    assert [(e.action, e.target_type, e.target_id, e.outcome) for e in refusals] == [
        ("user.create.refused", "user", "admin", "denied"),
        ("user.update.refused", "user", "admin", "denied"),
        ("token.create.refused", "token", None, "denied"),
        ("token.revoke.refused", "token", "999999", "denied"),
    ]
    assert refusals[0].details == {"error": "username 'admin' is taken"}
    assert refusals[2].details == {
        "error": "user 'ghost' not found",
        "owner": "ghost",
        "name": "script",
    }
    assert refusals[3].details == {"error": "token 999999 not found"}


async def test_cannot_lock_yourself_out(client: httpx.AsyncClient, admin: Person) -> None:
    r = await client.patch("/api/v1/users/admin", json={"disabled": True}, headers=admin.headers)
    assert r.status_code == 409
    r = await client.patch("/api/v1/users/admin", json={"roles": ["viewer"]}, headers=admin.headers)
    assert r.status_code == 409


async def test_a_weak_password_hash_is_upgraded_at_sign_in(
    client: httpx.AsyncClient, runtime: Runtime, admin: Person
) -> None:
    """Hashes made with weaker argon2 parameters than today's are replaced at the next
    successful sign-in, the only moment the password is at hand."""
    from argon2 import PasswordHasher

    from beffroi.accounts.passwords import needs_rehash

    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    async with runtime.db.write() as session:
        user = (await session.execute(select(User).where(User.username == "admin"))).scalar_one()
        user.password_hash = weak
    assert needs_rehash(weak)
    assert (await login(client, "admin", "wrong password!")).status_code == 401
    async with runtime.db.read() as session:
        kept = (await session.execute(select(User).where(User.username == "admin"))).scalar_one()
    assert kept.password_hash == weak, "a failed sign-in changes nothing"
    assert (await login(client, "admin")).status_code == 200
    async with runtime.db.read() as session:
        user = (await session.execute(select(User).where(User.username == "admin"))).scalar_one()
    assert user.password_hash != weak
    assert not needs_rehash(user.password_hash)
    assert (await login(client, "admin")).status_code == 200, "the new hash verifies"
