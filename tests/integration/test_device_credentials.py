"""Device credentials on both databases: issue, rotate, revoke, scope, audit, the cache,
the Mosquitto files, and the ``beffroi device`` commands."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from beffroi.assets import service as assets
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.core.audit import AuditEntry
from beffroi.core.context import Context, Runtime
from beffroi.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from beffroi.core.principal import ActorKind, Principal, Role
from beffroi.devices.cache import Change, ChangeKind, CredentialCache
from beffroi.devices.credentials import (
    issue_credentials,
    revoke_credentials,
    verify_device_secret,
)
from beffroi.devices.mosquitto import write_mosquitto_files
from beffroi.devices.secrets import SecretHash
from tests.mqtt_support import DeviceSite, make_device_site, start_embedded_broker
from tests.support import audit_seq, audited_since, run_cli, table_rows


def talant_admin(runtime: Runtime) -> Context:
    """An administrator whose scope is Talant only."""
    return runtime.context(
        Principal(
            name="talant-admin",
            kind=ActorKind.USER,
            roles=frozenset({Role.ADMIN}),
            communes=frozenset({"talant"}),
        )
    )


async def audit_entries(runtime: Runtime, action: str) -> list[AuditEntry]:
    async with runtime.db.read() as session:
        rows = await session.execute(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        )
        return list(rows.scalars())


@pytest.fixture
async def site(system: Context) -> DeviceSite:
    return await make_device_site(system)


async def test_issue_rotate_revoke(runtime: Runtime, system: Context, site: DeviceSite) -> None:
    db, a = runtime.db, site.child
    first = site.secrets[a]
    assert len(first) == 43  # 256 bits, URL-safe base64
    assert await verify_device_secret(db, a, first)
    assert not await verify_device_secret(db, a, first + "x")
    assert not await verify_device_secret(db, "NOBODY", first)

    [(issued_id, second)] = await issue_credentials(system, [a])
    assert issued_id == a
    assert second != first
    assert not await verify_device_secret(db, a, first), "rotation replaces the old secret"
    assert await verify_device_secret(db, a, second)

    await revoke_credentials(system, a, reason="stolen")
    assert not await verify_device_secret(db, a, second)
    with pytest.raises(NotFound, match="no active credentials"):
        await revoke_credentials(system, a)

    [(_, third)] = await issue_credentials(system, [a])
    assert await verify_device_secret(db, a, third), "issuing again lifts a revocation"

    issued = await audit_entries(runtime, "device.credentials.issue")
    assert [e.details["issued"] for e in issued] == [3, 1, 1]
    assert [e.details["rotated"] for e in issued] == [0, 1, 1]
    [revoked] = await audit_entries(runtime, "device.credentials.revoke")
    assert (revoked.target_id, revoked.reason, revoked.commune_code) == (a, "stolen", "talant")


async def test_issue_for_everything_in_scope(
    runtime: Runtime, system: Context, site: DeviceSite
) -> None:
    talant = talant_admin(runtime)
    pairs = await issue_credentials(talant, None)
    assert sorted(i for i, _ in pairs) == sorted([site.gateway, site.child])
    [entry] = (await audit_entries(runtime, "device.credentials.issue"))[-1:]
    assert entry.actor == "talant-admin"
    assert entry.commune_code == "talant"
    assert entry.details["issued"] == 2
    assert entry.details["selection"] == "all in scope"

    everything = await issue_credentials(system, None)
    assert {site.gateway, site.child, site.other} <= {i for i, _ in everything}
    assert len(await audit_entries(runtime, "device.credentials.issue")) == 3, "one per call"


async def test_scope_and_refusals(runtime: Runtime, system: Context, site: DeviceSite) -> None:
    talant = talant_admin(runtime)
    with pytest.raises(NotFound):
        await issue_credentials(talant, [site.child, site.other])  # Chenôve: out of scope
    with pytest.raises(NotFound):
        await revoke_credentials(talant, site.other)
    assert await verify_device_secret(runtime.db, site.child, site.secrets[site.child]), (
        "a refused call issues nothing"
    )
    with pytest.raises(NotFound, match="GHOST"):
        await issue_credentials(system, ["GHOST"])
    with pytest.raises(InvalidInput, match="hub"):
        await issue_credentials(system, [runtime.settings.mqtt_username])
    with pytest.raises(InvalidInput):
        await issue_credentials(system, [])
    viewer = runtime.context(
        Principal(name="viewer", kind=ActorKind.USER, roles=frozenset({Role.VIEWER}))
    )
    with pytest.raises(PermissionDenied):
        await issue_credentials(viewer, [site.child])

    await assets.decommission_asset(system, site.other, reason="removed")
    with pytest.raises(Conflict, match="decommissioned"):
        await issue_credentials(system, [site.other])
    assert site.other not in {i for i, _ in await issue_credentials(system, None)}
    assert not await verify_device_secret(runtime.db, site.other, site.secrets[site.other])


async def test_refusals_are_audited_and_write_nothing(
    runtime: Runtime, system: Context, site: DeviceSite
) -> None:
    await revoke_credentials(system, site.other, reason="stolen")
    tables = ("device_credentials", "credential_head")
    before, seq = await table_rows(runtime, *tables), await audit_seq(runtime)

    # One unknown id refuses the whole call: the known one is not rotated either.
    with pytest.raises(NotFound, match="GHOST"):
        await issue_credentials(system, [site.child, "GHOST"])
    with pytest.raises(InvalidInput):
        await issue_credentials(system, [])
    # The change number taken before the refusal is given back.
    with pytest.raises(NotFound, match="no active credentials"):
        await revoke_credentials(system, site.other, reason="again")

    assert await table_rows(runtime, *tables) == before
    refusals = await audited_since(runtime, seq)
    assert [(e.action, e.target_type, e.target_id, e.outcome) for e in refusals] == [
        ("device.credentials.issue.refused", "asset", None, "denied"),
        ("device.credentials.issue.refused", "asset", None, "denied"),
        ("device.credentials.revoke.refused", "asset", site.other, "denied"),
    ]
    assert refusals[0].details == {
        "error": "asset 'GHOST' not found",
        "selection": "listed",
        "ids": [site.child, "GHOST"],
    }
    assert refusals[1].details["ids"] == []
    assert refusals[2].details == {"error": f"asset {site.other!r} has no active credentials"}


async def test_cache(runtime: Runtime, system: Context, site: DeviceSite) -> None:
    cache = CredentialCache()
    issued = await cache.refresh(runtime.db, force=True)
    assert {c.asset_id for c in issued} == set(site.secrets)
    assert await cache.refresh(runtime.db) == [], "nothing changed: no reload"
    assert await cache.catch_up(runtime.db) == [], "no change since the load"
    a, secret = site.child, site.secrets[site.child]
    assert cache.is_known(a)
    assert cache.verify(a, secret)
    assert cache.verify(a, secret), "remembered"
    assert not cache.verify(a, secret[:-1])
    assert not cache.verify("NOBODY", secret)

    # Credential changes are read by number, each reported as what it is.
    await revoke_credentials(system, a)
    [(_, rotated)] = await issue_credentials(system, [site.gateway])
    assert sorted(await cache.catch_up(runtime.db), key=lambda c: c.asset_id) == [
        Change(site.gateway, ChangeKind.ROTATED),
        Change(a, ChangeKind.REVOKED),
    ]
    assert not cache.is_known(a)
    assert not cache.verify(a, secret), "the remembered check went with the credential"
    assert cache.verify(site.gateway, rotated)
    assert not cache.verify(site.gateway, site.secrets[site.gateway]), "the old secret"
    [(_, again)] = await issue_credentials(system, [a])
    assert await cache.catch_up(runtime.db) == [Change(a, ChangeKind.ISSUED)]
    assert cache.verify(a, again)

    # A new asset without credentials reloads nothing that changed; a decommissioned
    # device's credentials go at the next refresh.
    await assets.create_asset(
        system,
        AssetCreate(
            id="SL-TAL-00002",
            type="streetlight",
            name="Point lumineux 2",
            commune="talant",
            location=Point(coordinates=(5.005, 47.337)),
            parent_id=site.gateway,
        ),
    )
    assert await cache.refresh(runtime.db) == []
    await assets.decommission_asset(system, site.other, reason="removed")
    assert await cache.refresh(runtime.db) == [Change(site.other, ChangeKind.REVOKED)]
    assert not cache.is_known(site.other)


async def test_http_ingest_follows_rotation_and_revocation_at_once(
    runtime: Runtime, system: Context, site: DeviceSite
) -> None:
    """The first hardening issue found HTTP ingest accepting the old secret (and refusing
    the new one) for a while after a rotation: a cache. Each request asks the database."""
    from beffroi.core.errors import NotAuthenticated
    from beffroi.devices.topics import Channel
    from beffroi.gateway.http_ingest import HttpIngest

    ingest = HttpIngest(runtime)
    a, old = site.child, site.secrets[site.child]
    body = b'{"values": {"power_w": 12}}'
    assert await ingest.ingest(a, old, Channel.TELEMETRY, body) == 1
    [(_, new)] = await issue_credentials(system, [a])
    with pytest.raises(NotAuthenticated):
        await ingest.ingest(a, old, Channel.TELEMETRY, body)
    assert await ingest.ingest(a, new, Channel.TELEMETRY, body) == 1
    await revoke_credentials(system, a)
    with pytest.raises(NotAuthenticated):
        await ingest.ingest(a, new, Channel.TELEMETRY, body)


async def test_mosquitto_files(
    runtime: Runtime, system: Context, site: DeviceSite, tmp_path: Path
) -> None:
    etc = tmp_path / "mosquitto"
    etc.mkdir()
    password_path, acl_path = etc / "passwd", etc / "acl"
    await revoke_credentials(system, site.other)
    written = await write_mosquitto_files(system, password_path, acl_path)
    assert written.devices == 2
    assert stat.S_IMODE(password_path.stat().st_mode) == 0o640
    lines = dict(line.split(":", 1) for line in password_path.read_text().splitlines())
    hub = runtime.settings.mqtt_username
    assert set(lines) == {hub, site.gateway, site.child}
    assert SecretHash.parse(lines[hub]).matches(runtime.settings.hub_mqtt_password)
    assert SecretHash.parse(lines[site.child]).matches(site.secrets[site.child])
    acl = acl_path.read_text()
    assert f"user {hub}\ntopic readwrite #" in acl
    assert "pattern read beffroi/v1/devices/%u/commands/+" in acl
    assert sorted(os.listdir(etc)) == ["acl", "passwd"], "no temp file left behind"
    [entry] = await audit_entries(runtime, "device.broker.provision")
    assert entry.details["devices"] == 2
    with pytest.raises(PermissionDenied, match="metropolis-wide"):
        await write_mosquitto_files(talant_admin(runtime), password_path, acl_path)


async def test_cli(database_url: str, system: Context, site: DeviceSite, tmp_path: Path) -> None:
    env = {"BEFFROI_DATABASE_URL": database_url, "BEFFROI_DATA_DIR": str(tmp_path)}
    shown = await run_cli("device", "credentials", site.child, site.other, env=env)
    assert shown.returncode == 0, shown.stderr
    rows = list(csv.reader(io.StringIO(shown.stdout)))
    assert rows[0] == ["id", "secret"]
    assert [r[0] for r in rows[1:]] == [site.child, site.other]
    assert "shown once" in shown.stderr
    assert await verify_device_secret(system.db, site.child, rows[1][1])

    out = tmp_path / "secrets.csv"
    everything = await run_cli("device", "credentials", "--all", "--out", str(out), env=env)
    assert everything.returncode == 0, everything.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    written = list(csv.reader(out.open()))
    assert {r[0] for r in written[1:]} == {site.gateway, site.child, site.other}
    assert everything.stdout == "", "with --out, no secret on the terminal"

    unknown = await run_cli("device", "credentials", "GHOST", env=env)
    assert unknown.returncode == 1
    assert "GHOST" in unknown.stderr

    revoked = await run_cli("device", "revoke", site.other, "--reason", "stolen", env=env)
    assert revoked.returncode == 0, revoked.stderr

    password_path, acl_path = tmp_path / "passwd", tmp_path / "acl"
    files = await run_cli("device", "mosquitto-files", str(password_path), str(acl_path), env=env)
    assert files.returncode == 0, files.stderr
    assert "2 devices" in files.stdout
    assert acl_path.exists()
    assert os.access(password_path, os.R_OK)


async def test_revoke_returns_once_the_running_broker_ended_the_session(
    runtime: Runtime, database_url: str, site: DeviceSite, tmp_path: Path
) -> None:
    """``beffroi device revoke`` (another process) waits until the running embedded broker
    applied it: when it returns the device's session is over and its secret refused."""
    import aiomqtt

    env = {"BEFFROI_DATABASE_URL": database_url, "BEFFROI_DATA_DIR": str(tmp_path)}
    a = site.child
    async with start_embedded_broker(runtime) as broker:
        assert broker.port is not None
        device = aiomqtt.Client(
            "127.0.0.1", broker.port, username=a, password=site.secrets[a], identifier=a
        )
        async with device:
            revoked = await run_cli("device", "revoke", a, "--reason", "stolen", env=env)
            assert revoked.returncode == 0, revoked.stderr
            assert f"applied by embedded broker 127.0.0.1:{broker.port}" in revoked.stderr
            assert not broker.cache.is_known(a)
            closed = False
            try:
                async with asyncio.timeout(5):
                    async for _ in device.messages:
                        pass
            except aiomqtt.MqttError:
                closed = True
            assert closed, "the revoked device's session is still open"

        # No broker follows the database any more: the command says so, and does not wait.
    alone = await run_cli("device", "credentials", a, env=env)
    assert alone.returncode == 0, alone.stderr
    assert "no running broker" in alone.stderr
