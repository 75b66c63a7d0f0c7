"""Video-protection within the law (docs/video.md): habilitations, view sessions and their
stream URLs, steering only within a session, refusals registered."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from beffroi.accounts.models import User
from beffroi.core.context import Context, Runtime
from beffroi.core.time import utcnow
from beffroi.video import jobs
from beffroi.video.models import Habilitation, ViewSession
from beffroi.video.vms import verify_url
from tests.integration.video_support import (
    API,
    REASON,
    Cast,
    habilitate,
    habilitation,
    make_cameras,
    make_cast,
    register,
)


@pytest.fixture
async def cast(system: Context) -> Cast:
    """Cameras, and the people who deal with them."""
    await make_cameras(system)
    return await make_cast(system)


async def _open(
    client: httpx.AsyncClient, cast: Cast, *cameras: str, **extra: str
) -> httpx.Response:
    body = {"cameras": list(cameras), "reason": REASON, **extra}
    return await client.post(f"{API}/sessions", json=body, headers=cast.agent.headers)


async def test_habilitations_are_checked(client: httpx.AsyncClient, cast: Cast) -> None:
    post = f"{API}/habilitations"
    cases = [
        (habilitation(cast.operator.username), "username"),
        (habilitation("ghost"), "username"),
        (habilitation(cast.agent.username, cameras=["GHOST-1"], communes=[]), "cameras.0"),
        (habilitation(cast.agent.username, cameras=["SL-TAL-1"], communes=[]), "cameras.0"),
        (habilitation(cast.agent.username, communes=["nowhere"]), "communes"),
        (habilitation(cast.agent.username, communes=[], cameras=[]), "cameras"),
        (
            habilitation(
                cast.agent.username, valid_until=(utcnow() - timedelta(days=2)).isoformat()
            ),
            "valid_until",
        ),
    ]
    for body, field in cases:
        response = await client.post(post, json=body, headers=cast.manager.headers)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["errors"][0]["field"] == field
    # Only a manager records one; an agent is not their own authority.
    response = await client.post(
        post, json=habilitation(cast.agent.username), headers=cast.agent.headers
    )
    assert response.status_code == 403

    made = await habilitate(client, cast, cameras=["CA-CHE-1"])
    assert made["active"]
    assert made["username"] == "agent"
    mine = (await client.get(post, headers=cast.agent.headers)).json()
    assert [h["id"] for h in mine] == [made["id"]]
    # Another agent neither lists nor reads it.
    assert (await client.get(post, headers=cast.other_agent.headers)).json() == []
    response = await client.get(f"{post}/{made['id']}", headers=cast.other_agent.headers)
    assert response.status_code == 404

    response = await client.post(
        f"{post}/{made['id']}/revoke", json={"reason": "mutation"}, headers=cast.manager.headers
    )
    assert response.status_code == 200
    assert not response.json()["active"]
    assert (await _open(client, cast, "CA-TAL-1")).status_code == 403


async def test_refusals_are_refused_and_registered(
    client: httpx.AsyncClient, cast: Cast, runtime: Runtime
) -> None:
    # No habilitation at all.
    response = await _open(client, cast, "CA-TAL-1")
    assert response.status_code == 403
    assert "no video habilitation" in response.json()["detail"]
    # An expired one (recorded when it was in force).
    await _expired_habilitation(runtime, cast.agent.username)
    assert (await _open(client, cast, "CA-TAL-2")).status_code == 403
    # A camera outside it: Talant covered, a Chenôve camera asked.
    await habilitate(client, cast)
    # With the longest words an agent may add: they still fit the register beside the
    # reason (the API fuzz found PostgreSQL refusing the joined text).
    response = await _open(client, cast, "CA-TAL-1", "CA-CHE-1", reason_text="x" * 2000)
    assert response.status_code == 403, response.text
    assert "CA-CHE-1" in response.json()["detail"]
    # A reason is required, and from the list.
    response = await client.post(
        f"{API}/sessions", json={"cameras": ["CA-TAL-1"]}, headers=cast.agent.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "reason"
    response = await _open(client, cast, "CA-TAL-1", reason="curiosité")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "reason"

    entries = await register(client, cast, kind="view.start")
    refused = [(e["camera_id"], e["outcome"], e["agent"]) for e in entries]
    assert refused == [
        ("CA-TAL-1", "refused", "agent"),
        ("CA-TAL-2", "refused", "agent"),
        ("CA-TAL-1", "refused", "agent"),
        ("CA-CHE-1", "refused", "agent"),
        ("CA-TAL-1", "refused", "agent"),
    ]
    assert "no video habilitation" in entries[0]["details"]["error"]
    assert entries[2]["commune"] == "talant"
    assert entries[3]["commune"] == "chenove"
    # Nothing else was written: no session exists.
    listed = await client.get(
        f"{API}/sessions", params={"mine": "false"}, headers=cast.auditor.headers
    )
    assert listed.json() == []


async def _expired_habilitation(runtime: Runtime, username: str) -> None:
    now = utcnow()
    async with runtime.db.write() as session:
        user_id = await session.scalar(select(User.id).where(User.username == username))
        assert user_id is not None
        session.add(
            Habilitation(
                user_id=user_id,
                authority="Préfecture",
                reference="arrêté 2025-1",
                communes=["talant"],
                cameras=[],
                valid_from=now - timedelta(days=400),
                valid_until=now - timedelta(days=35),
                created_by="test",
                created_at=now - timedelta(days=400),
            )
        )


async def test_session_streams_are_signed_and_expire(
    client: httpx.AsyncClient, cast: Cast, runtime: Runtime, system: Context
) -> None:
    made = await habilitate(client, cast)
    # The cameras stream the ONVIF profiles "main" and "sub" only.
    response = await _open(client, cast, "CA-TAL-1", profile="hd")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "profile"
    response = await _open(client, cast, "CA-TAL-1", "CA-TAL-2", reason_text="rixe signalée")
    assert response.status_code == 201, response.text
    session = response.json()
    assert session["open"]
    assert session["reason"] == REASON
    streams = {s["camera_id"]: s for s in session["streams"]}
    assert set(streams) == {"CA-TAL-1", "CA-TAL-2"}
    key = runtime.settings.vms_key
    url = streams["CA-TAL-1"]["url"]
    assert urlsplit(url).path == f"/live/CA-TAL-1/main/{session['id']}"
    assert verify_url(key, url)
    # Short-lived: past its expiry, or altered, or signed with another key, it plays nothing.
    ttl = runtime.settings.vms_url_ttl_s
    assert not verify_url(key, url, utcnow() + timedelta(seconds=ttl + 1))
    assert not verify_url(key, url.replace("CA-TAL-1", "CA-TAL-2"))
    assert not verify_url(b"another key", url)

    # Only its agent gets stream URLs; an auditor sees the session without them.
    seen = (
        await client.get(f"{API}/sessions/{session['id']}", headers=cast.auditor.headers)
    ).json()
    assert seen["streams"] == []
    assert seen["agent"] == "agent"
    other = await client.get(f"{API}/sessions/{session['id']}", headers=cast.other_agent.headers)
    assert other.status_code == 404
    mine = (
        await client.get(f"{API}/sessions", params={"open": "true"}, headers=cast.agent.headers)
    ).json()
    assert [s["id"] for s in mine] == [session["id"]]
    assert len(mine[0]["streams"]) == 2

    # A habilitation revoked meanwhile stops the images: no more stream URLs.
    revoked = await client.post(
        f"{API}/habilitations/{made['id']}/revoke",
        json={"reason": "fin de mission"},
        headers=cast.manager.headers,
    )
    assert revoked.status_code == 200
    again = await client.get(f"{API}/sessions/{session['id']}", headers=cast.agent.headers)
    assert again.json()["open"]
    assert again.json()["streams"] == []
    await habilitate(client, cast)

    ended = await client.post(f"{API}/sessions/{session['id']}/end", headers=cast.agent.headers)
    assert ended.status_code == 200
    assert not ended.json()["open"]
    assert ended.json()["ended_because"] == "agent"
    assert ended.json()["streams"] == []

    # A session past its maximum duration ends by itself, registered as its agent's.
    second = (await _open(client, cast, "CA-TAL-2")).json()
    async with runtime.db.write() as db:
        await db.execute(
            update(ViewSession)
            .where(ViewSession.id == second["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert await jobs.end_sessions(system) == 1
    assert await jobs.end_sessions(system) == 0
    after = (await client.get(f"{API}/sessions/{second['id']}", headers=cast.agent.headers)).json()
    assert after["ended_because"] == "expired"

    entries = await register(client, cast)
    assert [(e["kind"], e["camera_id"], e["session_id"]) for e in entries] == [
        ("view.start", "CA-TAL-1", None),
        ("view.start", "CA-TAL-1", session["id"]),
        ("view.start", "CA-TAL-2", session["id"]),
        ("view.end", "CA-TAL-1", session["id"]),
        ("view.end", "CA-TAL-2", session["id"]),
        ("view.start", "CA-TAL-2", second["id"]),
        ("view.end", "CA-TAL-2", second["id"]),
    ]
    assert entries[0]["outcome"] == "refused"
    assert entries[1]["reason"] == f"{REASON}: rixe signalée"
    assert entries[-1]["agent"] == "agent"
    assert entries[-1]["details"]["because"] == "expired"


async def test_steering_only_within_a_session(client: httpx.AsyncClient, cast: Cast) -> None:
    await habilitate(client, cast)
    goto = {"asset_id": "CA-TAL-1", "name": "goto_preset", "params": {"preset": 2}, "reason": "x"}
    # The generic command route refuses camera commands, whoever asks.
    response = await client.post("/api/v1/commands", json=goto, headers=cast.agent.headers)
    assert response.status_code == 403
    assert "/video/sessions/{id}/commands" in response.json()["detail"]
    batch = {
        "type": "camera",
        "name": "goto_preset",
        "params": {"preset": 2},
        "reason": "x",
        "target": {"kind": "ids", "asset_ids": ["CA-TAL-1"]},
    }
    response = await client.post("/api/v1/command-batches", json=batch, headers=cast.agent.headers)
    assert response.status_code == 403

    session = (await _open(client, cast, "CA-TAL-1")).json()
    steer = f"{API}/sessions/{session['id']}/commands"
    order = {"camera_id": "CA-TAL-1", "name": "ptz_move", "params": {"pan": 0.5, "tilt": -0.2}}
    response = await client.post(steer, json=order, headers=cast.agent.headers)
    assert response.status_code == 201, response.text
    command = response.json()
    assert command["reason"] == REASON
    assert command["state"] == "queued"
    assert command["name"] == "ptz_move"
    # A camera outside the session, bad parameters, another agent: refused.
    other = {**order, "camera_id": "CA-TAL-2"}
    response = await client.post(steer, json=other, headers=cast.agent.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "camera_id"
    bad = {**order, "params": {"pan": 5, "tilt": 0}}
    response = await client.post(steer, json=bad, headers=cast.agent.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "params.pan"
    response = await client.post(steer, json=order, headers=cast.other_agent.headers)
    assert response.status_code == 404
    # Once the session ended, no more steering.
    await client.post(f"{API}/sessions/{session['id']}/end", headers=cast.agent.headers)
    response = await client.post(steer, json=order, headers=cast.agent.headers)
    assert response.status_code == 409

    steering = await register(client, cast, kind="steering")
    assert [(e["camera_id"], e["outcome"]) for e in steering] == [
        ("CA-TAL-1", "done"),
        ("CA-TAL-2", "refused"),
        ("CA-TAL-1", "refused"),
        ("CA-TAL-1", "refused"),
        ("CA-TAL-1", "refused"),
    ]
    assert steering[0]["details"]["command_id"] == command["id"]
    assert steering[0]["details"]["onvif"] == "RelativeMove"
    assert steering[-1]["session_id"] == session["id"]
    # Steering outside any session is refused too (no such session).
    response = await client.post(
        f"{API}/sessions/987654/commands", json=order, headers=cast.agent.headers
    )
    assert response.status_code == 404


async def test_who_sees_the_video_routes(client: httpx.AsyncClient, cast: Cast) -> None:
    # An operator has no business with images: no register, no sessions, no reasons.
    for path in ("/register", "/reasons", "/holds", "/habilitations"):
        response = await client.get(f"{API}{path}", headers=cast.operator.headers)
        assert response.status_code == 403, path
    # An agent does not search the register; an auditor opens no session.
    assert (await client.get(f"{API}/register", headers=cast.agent.headers)).status_code == 403
    response = await client.post(
        f"{API}/sessions",
        json={"cameras": ["CA-TAL-1"], "reason": REASON},
        headers=cast.auditor.headers,
    )
    assert response.status_code == 403
