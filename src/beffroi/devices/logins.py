"""Refused device logins: why, how often, when — where operators look for failing devices.

Brokers and HTTP ingest note each refusal in memory (:meth:`LoginFailureLog.note`, no I/O)
and write the tallies every few seconds (:meth:`LoginFailureLog.flush`): a device retrying
every second moves one row's counter, it does not add a row a second, and a flood of
made-up usernames is folded into one row once a flush holds :data:`MAX_KEYS` of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as asset_queries
from beffroi.catalogue.visibility import hidden_types
from beffroi.core.context import Context
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.db import Database
from beffroi.db.upsert import upsert
from beffroi.devices.models import DeviceCredential, LoginFailure

FLUSH_S = 5.0
# Distinct (username, reason, source) per flush; beyond, refusals count under OTHERS.
MAX_KEYS = 500
OTHERS = "*"
KEEP = timedelta(days=30)


class Refusal(StrEnum):
    """Why a login was refused."""

    WRONG_SECRET = "wrong_secret"
    UNKNOWN_DEVICE = "unknown_device"
    NO_CREDENTIALS = "no_credentials"
    REVOKED = "revoked"
    DECOMMISSIONED = "decommissioned"
    CLIENT_ID = "client_id_mismatch"
    WILL_TOPIC = "will_not_allowed"
    NO_USERNAME = "no_username"
    HUB_PASSWORD = "wrong_hub_password"
    # Noted when the username has no active credential; told apart when written.
    NOT_ACTIVE = "not_active"


class Source(StrEnum):
    """The path a device tried."""

    MQTT = "mqtt"
    HTTP = "http"


@dataclass(slots=True)
class _Tally:
    count: int
    first_at: datetime
    last_at: datetime
    client_id: str | None
    peer: str | None


Key = tuple[str, Refusal, Source]


class LoginFailureLog:
    """Refusals noted since the last flush, per (username, reason, source)."""

    def __init__(self) -> None:
        self._pending: dict[Key, _Tally] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def note(
        self,
        username: str | None,
        reason: Refusal,
        source: Source,
        *,
        client_id: str | None = None,
        peer: str | None = None,
    ) -> None:
        """Count one refusal (in memory: safe on the broker's hot path)."""
        name = _clip(username) or ""
        if not name:
            reason = Refusal.NO_USERNAME
        key = (name, reason, source)
        if key not in self._pending and len(self._pending) >= MAX_KEYS:
            key = (OTHERS, reason, source)
        now = utcnow()
        tally = self._pending.get(key)
        if tally is None:
            self._pending[key] = _Tally(1, now, now, _clip(client_id), _clip(peer))
        else:
            tally.count += 1
            tally.last_at = now
            tally.client_id, tally.peer = _clip(client_id), _clip(peer)

    async def flush(self, db: Database) -> int:
        """Write what was noted; returns the number of rows touched. What cannot be
        written (the database is down) is kept for the next flush."""
        if not self._pending:
            return 0
        pending, self._pending = self._pending, {}
        try:
            async with db.write() as session:
                facts = await _facts(session, {name for name, _, _ in pending})
                rows = _rows(pending, facts)
                await _save(session, rows)
        except BaseException:
            for key, tally in pending.items():
                self._merge(key, tally)
            raise
        return len(rows)

    def _merge(self, key: Key, tally: _Tally) -> None:
        current = self._pending.get(key)
        if current is None:
            self._pending[key] = tally
        else:
            current.count += tally.count
            current.first_at = min(current.first_at, tally.first_at)


def _clip(text: str | None) -> str | None:
    # Usernames and client ids come from the network: any length, any character.
    if text is None:
        return None
    return text[:64].replace("\x00", "\\0")


def _cutoff() -> datetime:
    return utcnow() - KEEP


@dataclass(frozen=True, slots=True)
class _Fact:
    commune: str
    decommissioned: bool
    credential: str  # "none", "revoked" or "active"


async def _facts(session: AsyncSession, names: set[str]) -> dict[str, _Fact]:
    """What the registry knows of each username: its commune and credential state."""
    assets = await asset_queries.facts(session, names)
    revoked: dict[str, bool] = {}
    ordered = sorted(assets)
    for start in range(0, len(ordered), 500):
        rows = await session.execute(
            select(DeviceCredential.asset_id, DeviceCredential.revoked_at).where(
                DeviceCredential.asset_id.in_(ordered[start : start + 500])
            )
        )
        revoked.update({row.asset_id: row.revoked_at is not None for row in rows})
    return {
        a.id: _Fact(
            a.commune,
            not a.live,
            "none" if a.id not in revoked else "revoked" if revoked[a.id] else "active",
        )
        for a in assets.values()
    }


def _resolve(reason: Refusal, fact: _Fact | None) -> Refusal:
    """A precise reason for a username without an active credential."""
    if reason is not Refusal.NOT_ACTIVE:
        return reason
    if fact is None:
        return Refusal.UNKNOWN_DEVICE
    if fact.decommissioned:
        return Refusal.DECOMMISSIONED
    if fact.credential == "none":
        return Refusal.NO_CREDENTIALS
    if fact.credential == "revoked":
        return Refusal.REVOKED
    # Issued after the broker last looked: the secret was not known to it yet.
    return Refusal.WRONG_SECRET


def _rows(pending: dict[Key, _Tally], facts: dict[str, _Fact]) -> list[dict[str, object]]:
    merged: dict[Key, _Tally] = {}
    for (name, reason, source), tally in pending.items():
        key = (name, _resolve(reason, facts.get(name)), source)
        if key in merged:
            merged[key].count += tally.count
            merged[key].last_at = max(merged[key].last_at, tally.last_at)
        else:
            merged[key] = tally
    return [
        {
            "username": name,
            "reason": reason.value,
            "source": source.value,
            "commune_code": fact.commune if (fact := facts.get(name)) else None,
            "client_id": tally.client_id,
            "peer": tally.peer,
            "first_at": tally.first_at,
            "last_at": tally.last_at,
            "count": tally.count,
        }
        for (name, reason, source), tally in sorted(merged.items())
    ]


async def _save(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    # Rows past the retention go first, so a username refused again starts a new count
    # rather than adding to one from long ago.
    await session.execute(delete(LoginFailure).where(LoginFailure.last_at < _cutoff()))
    await upsert(
        session,
        LoginFailure,
        rows,
        keys=["username", "reason", "source"],
        update=["last_at", "client_id", "peer", "commune_code"],
        add=["count"],
    )


@dataclass(frozen=True, slots=True)
class LoginFailureView:
    """Refused logins of one username, for one reason, over one path."""

    username: str
    reason: str
    source: str
    client_id: str | None
    peer: str | None
    first_at: datetime
    last_at: datetime
    count: int


async def login_failures(
    ctx: Context, *, asset_id: str | None = None, hours: int = 24 * 7, limit: int = 100
) -> list[LoginFailureView]:
    """Refused logins seen in the last ``hours``, newest first, in the caller's scope.

    Usernames that name no asset of the registry belong to no commune: only people with
    metropolis-wide scope who see every equipment type see them.
    """
    ctx.principal.require(Permission.INGEST_READ)
    since = utcnow() - timedelta(hours=hours)
    stmt = select(LoginFailure).where(LoginFailure.last_at >= since)
    scope = ctx.principal.scope_clause(LoginFailure.commune_code)
    # Usernames naming no asset: for who sees every commune and every type. Shown to a
    # person from whom cameras are hidden, they would tell a camera's id (hidden) from a
    # name that is nobody's (shown) to whoever tries both.
    if not hidden_types(ctx.principal):
        if ctx.principal.all_communes:
            scope = or_(scope, LoginFailure.commune_code.is_(None))
    else:
        scope = and_(scope, LoginFailure.commune_code.is_not(None))
    # A device's username is its asset id: a hidden device's (a camera's) failures too.
    stmt = stmt.where(scope, asset_queries.shown_clause(ctx.principal, LoginFailure.username))
    if asset_id is not None:
        stmt = stmt.where(LoginFailure.username == asset_id)
    stmt = stmt.order_by(LoginFailure.last_at.desc(), LoginFailure.id.desc()).limit(limit)
    async with ctx.db.read() as session:
        rows = (await session.execute(stmt)).scalars().all()
    return [
        LoginFailureView(
            r.username, r.reason, r.source, r.client_id, r.peer, r.first_at, r.last_at, r.count
        )
        for r in rows
    ]
