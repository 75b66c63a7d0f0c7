"""Who sees cameras at all: auditors and administrators, and a video agent only while a
habilitation is in force (CSI L252-2). The flag is set when a request is authenticated."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from beffroi.accounts.models import User
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.video.clearance import authenticate_with_clearance
from beffroi.video.models import Habilitation
from tests.support import make_person


async def _habilitate(runtime: Runtime, username: str, **when: timedelta) -> None:
    now = utcnow()
    async with runtime.db.write() as session:
        user_id = await session.scalar(select(User.id).where(User.username == username))
        assert user_id is not None
        session.add(
            Habilitation(
                user_id=user_id,
                authority="Préfecture de la Côte-d'Or",
                reference="arrêté 2026-118",
                communes=["21231"],
                valid_from=now + when.get("start", timedelta(days=-1)),
                valid_until=now + when.get("end", timedelta(days=30)),
                revoked_at=now + when["revoked"] if "revoked" in when else None,
                created_by="test",
            )
        )


async def _sees_video(runtime: Runtime, token: str) -> bool:
    found = await authenticate_with_clearance(runtime.db, f"Bearer {token}", None)
    return found.principal.sees_video


async def test_only_an_agent_in_force_sees_cameras(runtime: Runtime, system: Context) -> None:
    agent = await make_person(system, "agent", [Role.VIDEO_AGENT])
    expired = await make_person(system, "expired", [Role.VIDEO_AGENT])
    future = await make_person(system, "future", [Role.VIDEO_AGENT])
    revoked = await make_person(system, "revoked", [Role.VIDEO_AGENT])
    operator = await make_person(system, "operator", [Role.OPERATOR])
    supervisor = await make_person(system, "supervisor", [Role.SUPERVISOR])
    auditor = await make_person(system, "auditor", [Role.AUDITOR])
    admin = await make_person(system, "root", [Role.ADMIN])
    assert not await _sees_video(runtime, agent.token)

    await _habilitate(runtime, "agent")
    await _habilitate(runtime, "expired", start=timedelta(days=-30), end=timedelta(seconds=-1))
    await _habilitate(runtime, "future", start=timedelta(hours=1))
    await _habilitate(runtime, "revoked", revoked=timedelta(seconds=-1))
    # A habilitation makes no difference to a role that may not watch.
    await _habilitate(runtime, "operator")

    assert await _sees_video(runtime, agent.token)
    for nobody in (expired, future, revoked, operator, supervisor):
        assert not await _sees_video(runtime, nobody.token), nobody.username
    assert await _sees_video(runtime, auditor.token)
    assert await _sees_video(runtime, admin.token)
