"""API shapes of users, sessions and tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from beffroi.accounts.passwords import MIN_LENGTH
from beffroi.catalogue import Domain
from beffroi.core.principal import Role

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"


class UserCreate(BaseModel):
    """A new account. ``communes`` omitted or null means metropolis-wide scope."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=USERNAME_PATTERN)
    password: str = Field(min_length=MIN_LENGTH, max_length=1024)
    display_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    roles: list[Role] = Field(min_length=1)
    domains: list[Domain] = Field(default_factory=list)
    communes: list[str] | None = None


class UserUpdate(BaseModel):
    """Changes to an account; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    roles: list[Role] | None = Field(default=None, min_length=1)
    domains: list[Domain] | None = None
    communes: list[str] | None = Field(
        default=None, description="Commune codes or names; use all_communes for the metropolis"
    )
    all_communes: bool | None = None
    disabled: bool | None = None
    password: str | None = Field(default=None, min_length=MIN_LENGTH, max_length=1024)


class UserOut(BaseModel):
    """An account as the API shows it (never its password hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    email: str | None
    roles: list[str]
    domains: list[str]
    communes: list[str] | None
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None


class LoginIn(BaseModel):
    """Console login."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class MeOut(BaseModel):
    """Who is signed in, what they may do, and the CSRF token to send back on changes."""

    user: UserOut
    permissions: list[str] = Field(description="what the roles held grant, e.g. alarm:handle")
    work_domains: list[str] = Field(
        description="equipment domains where alarms are handled and commands sent"
    )
    commands: dict[str, list[str]] = Field(
        description="by equipment type, the commands that may be sent (types with none left out)"
    )
    csrf_token: str | None = None


class TokenCreate(BaseModel):
    """A new API token for the caller (or, for admins, another user)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    username: str | None = Field(default=None, description="Admins only: whose token it is")


class TokenOut(BaseModel):
    """An API token's metadata (never its secret)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    user_id: int
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenOut):
    """A token just created: its secret is shown this once."""

    token: str
