"""Which cameras a request names, and which habilitations in force cover them: the checks
every act on images makes first, whatever the caller's role (CSI L252-2)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as assets
from beffroi.core.errors import FieldError, InvalidInput, PermissionDenied
from beffroi.core.principal import Principal
from beffroi.video.clearance import active_clause
from beffroi.video.models import Habilitation

CAMERA_TYPE = "camera"


async def cameras(
    session: AsyncSession, principal: Principal, ids: Sequence[str], field: str = "cameras"
) -> dict[str, assets.Facts]:
    """The cameras named, each existing, live, a camera and in the caller's scope; any other
    is refused naming its place in the list (a hidden one exactly as one that does not
    exist)."""
    found = await assets.facts(session, ids)
    errors = []
    for index, camera_id in enumerate(ids):
        facts = found.get(camera_id)
        if facts is None or not principal.sees(facts.commune):
            errors.append(FieldError(f"{field}.{index}", f"no camera {camera_id!r}"))
        elif facts.type != CAMERA_TYPE:
            errors.append(FieldError(f"{field}.{index}", f"{camera_id!r} is not a camera"))
        elif not facts.live:
            errors.append(FieldError(f"{field}.{index}", f"camera {camera_id!r} is decommissioned"))
    if errors:
        raise InvalidInput(errors)
    return {camera_id: found[camera_id] for camera_id in ids}


async def require_profile(
    session: AsyncSession, found: dict[str, assets.Facts], profile: str
) -> None:
    """The ONVIF media profile asked must be one each camera declares (a camera that
    declares none takes any: the VMS decides)."""
    wrong = []
    for camera_id in found:
        [attributes] = await assets.attributes(session, select(literal(camera_id)))
        declared = attributes.get("media_profiles")
        if isinstance(declared, list) and declared and profile not in declared:
            wrong.append(f"{camera_id} streams {', '.join(map(str, declared))}")
    if wrong:
        raise InvalidInput(FieldError("profile", f"not a media profile of: {'; '.join(wrong)}"))


def covers(habilitation: Habilitation, camera: assets.Facts) -> bool:
    """Whether a habilitation covers a camera: every camera of its communes, and its listed
    cameras besides."""
    return camera.commune in habilitation.communes or camera.id in habilitation.cameras


async def in_force(session: AsyncSession, user_id: int, at: datetime) -> list[Habilitation]:
    """The habilitations of a person in force at ``at``."""
    query = select(Habilitation).where(Habilitation.user_id == user_id, active_clause(at))
    return list((await session.execute(query.order_by(Habilitation.id))).scalars())


async def require_covered(
    session: AsyncSession,
    principal: Principal,
    found: dict[str, assets.Facts],
    at: datetime,
) -> list[int]:
    """The ids of the habilitations in force covering every camera, or
    :class:`PermissionDenied` naming the cameras none covers."""
    if principal.user_id is None:
        raise PermissionDenied("images are viewed by a person holding a habilitation")
    held = await in_force(session, principal.user_id, at)
    if not held:
        raise PermissionDenied(f"{principal.name} holds no video habilitation in force")
    used: set[int] = set()
    uncovered = []
    for camera in found.values():
        covering = next((h for h in held if covers(h, camera)), None)
        if covering is None:
            uncovered.append(camera.id)
        else:
            used.add(covering.id)
    if uncovered:
        raise PermissionDenied(
            f"no habilitation of {principal.name} in force covers camera(s) {', '.join(uncovered)}"
        )
    return sorted(used)
