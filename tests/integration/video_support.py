"""What the video tests share: cameras in Talant and Chenôve, the people who deal with
them, a habilitation recorded through the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from beffroi.assets.schemas import AssetCreate
from beffroi.assets.service import create_asset
from beffroi.core.context import Context
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from tests.support import Person, make_person

API = "/api/v1/video"
TALANT, CHENOVE = "talant", "chenove"
CAMERAS = {"CA-TAL-1": TALANT, "CA-TAL-2": TALANT, "CA-CHE-1": CHENOVE}
REASON = "incident en cours"


@dataclass(frozen=True, slots=True)
class Cast:
    """The people of the video tests."""

    manager: Person
    second: Person
    agent: Person
    other_agent: Person
    auditor: Person
    operator: Person


async def make_cameras(system: Context) -> None:
    """Three PTZ cameras, two in Talant and one in Chenôve, and a streetlight."""
    for camera_id, commune in CAMERAS.items():
        lon, lat = (5.006, 47.292) if commune == CHENOVE else (5.005, 47.337)
        await create_asset(
            system,
            AssetCreate(
                id=camera_id,
                type="camera",
                name=f"Caméra {camera_id}",
                commune=commune,
                location={"type": "Point", "coordinates": [lon, lat]},
                attributes={"kind": "ptz", "presets": 8, "media_profiles": ["main", "sub"]},
            ),
        )
    await create_asset(
        system,
        AssetCreate(
            id="SL-TAL-1",
            type="streetlight",
            name="Point lumineux",
            commune=TALANT,
            location={"type": "Point", "coordinates": [5.005, 47.337]},
            attributes={"lamp_type": "LED", "rated_power_w": 40},
        ),
    )


async def make_cast(system: Context) -> Cast:
    """Two managers (administrators), two agents, an auditor and an operator."""
    return Cast(
        manager=await make_person(system, "manager", [Role.ADMIN]),
        second=await make_person(system, "second", [Role.ADMIN]),
        agent=await make_person(system, "agent", [Role.VIDEO_AGENT]),
        other_agent=await make_person(system, "agent2", [Role.VIDEO_AGENT]),
        auditor=await make_person(system, "auditor", [Role.AUDITOR]),
        operator=await make_person(system, "operator", [Role.OPERATOR]),
    )


def habilitation(username: str, **changes: Any) -> dict[str, Any]:
    """A habilitation body: Talant's cameras, from yesterday for thirty days."""
    now = utcnow()
    return {
        "username": username,
        "authority": "Préfecture de la Côte-d'Or",
        "reference": "arrêté 2026-118",
        "communes": [TALANT],
        "cameras": [],
        "valid_from": (now - timedelta(days=1)).isoformat(),
        "valid_until": (now + timedelta(days=30)).isoformat(),
        **changes,
    }


async def habilitate(client: httpx.AsyncClient, cast: Cast, **changes: Any) -> dict[str, Any]:
    """Record a habilitation of the agent through the API."""
    response = await client.post(
        f"{API}/habilitations",
        json=habilitation(cast.agent.username, **changes),
        headers=cast.manager.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def register(client: httpx.AsyncClient, cast: Cast, **query: str) -> list[dict[str, Any]]:
    """The register entries an auditor finds, oldest first."""
    response = await client.get(
        f"{API}/register", params={"limit": "500", **query}, headers=cast.auditor.headers
    )
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["items"]))
