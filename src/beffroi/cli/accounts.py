"""``beffroi user`` and ``beffroi token``: accounts and API tokens."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer
from rich.table import Table

from beffroi.accounts import service
from beffroi.accounts import tokens as api_tokens
from beffroi.accounts.schemas import TokenCreate, UserCreate, UserUpdate
from beffroi.catalogue import Domain
from beffroi.cli.common import out, run
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role

users = typer.Typer(help="Accounts of people.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens.", no_args_is_help=True)

RoleOpt = Annotated[list[Role], typer.Option("--role", "-r", help="Repeat for several roles")]
DomainOpt = Annotated[
    list[Domain] | None, typer.Option("--domain", "-d", help="Operator domains; repeatable")
]
CommuneOpt = Annotated[
    list[str] | None,
    typer.Option("--commune", "-c", help="Commune code or name; repeatable; none = all"),
]


def generate_password() -> str:
    """A random password of 20 URL-safe characters."""
    return secrets.token_urlsafe(15)


@users.command("add")
def add(
    username: str,
    role: RoleOpt,
    domain: DomainOpt = None,
    commune: CommuneOpt = None,
    display_name: Annotated[str, typer.Option(help="Full name")] = "",
    email: Annotated[str | None, typer.Option()] = None,
    password: Annotated[
        str | None,
        typer.Option(envvar="BEFFROI_NEW_PASSWORD", help="Default: generated and printed once"),
    ] = None,
) -> None:
    """Create an account; without --commune it is metropolis-wide."""
    secret = password or generate_password()

    async def _job(_runtime: Runtime, ctx: Context) -> None:
        await service.create_user(
            ctx,
            UserCreate(
                username=username,
                password=secret,
                display_name=display_name,
                email=email,
                roles=role,
                domains=domain or [],
                communes=commune or None,
            ),
        )

    run(_job)
    out.print(f"user {username} created")
    if password is None:
        out.print(f"password (shown once): [bold]{secret}[/bold]")


@users.command("list")
def list_() -> None:
    """List the accounts."""

    async def _job(_runtime: Runtime, ctx: Context) -> None:
        table = Table("username", "roles", "domains", "communes", "disabled", "last login")
        for u in await service.list_users(ctx):
            table.add_row(
                u.username,
                ",".join(u.roles),
                ",".join(u.domains),
                "all" if u.communes is None else ",".join(u.communes),
                "yes" if u.disabled else "",
                u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else "",
            )
        out.print(table)

    run(_job)


def _update(username: str, changes: UserUpdate) -> None:
    async def _job(_runtime: Runtime, ctx: Context) -> None:
        await service.update_user(ctx, username, changes)

    run(_job)


@users.command("disable")
def disable(username: str) -> None:
    """Disable an account: its sessions end and its tokens are revoked."""
    _update(username, UserUpdate(disabled=True))
    out.print(f"user {username} disabled")


@users.command("enable")
def enable(username: str) -> None:
    """Enable a disabled account."""
    _update(username, UserUpdate(disabled=False))
    out.print(f"user {username} enabled")


@users.command("set-roles")
def set_roles(
    username: str,
    role: RoleOpt,
    domain: DomainOpt = None,
    commune: CommuneOpt = None,
    all_communes: Annotated[bool, typer.Option("--all-communes")] = False,
) -> None:
    """Replace an account's roles (and optionally its domains and communes)."""
    _update(
        username,
        UserUpdate(
            roles=role,
            domains=domain,
            communes=commune or None,
            all_communes=all_communes or None,
        ),
    )
    out.print(f"user {username} updated")


@users.command("reset-password")
def reset_password(username: str) -> None:
    """Give an account a new generated password, printed once; its sessions end."""
    secret = generate_password()
    _update(username, UserUpdate(password=secret))
    out.print(f"new password for {username} (shown once): [bold]{secret}[/bold]")


@tokens.command("create")
def create(
    username: str,
    name: Annotated[str, typer.Option(help="What the token is for")],
    days: Annotated[int | None, typer.Option(help="Days until it expires")] = None,
) -> None:
    """Issue an API token for a user; the secret is printed once."""

    async def _job(_runtime: Runtime, ctx: Context) -> tuple[int, str]:
        token, secret = await api_tokens.create_token(
            ctx, TokenCreate(name=name, expires_in_days=days, username=username)
        )
        return token.id, secret

    token_id, secret = run(_job)
    out.print(f"token {token_id} for {username} (shown once):")
    out.print(secret)


@tokens.command("revoke")
def revoke(token_id: int) -> None:
    """Revoke an API token by id."""

    async def _job(_runtime: Runtime, ctx: Context) -> None:
        await api_tokens.revoke_token(ctx, token_id)

    run(_job)
    out.print(f"token {token_id} revoked")
