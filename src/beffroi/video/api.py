"""Routes of the video area: habilitations, view sessions and their steering, extractions
and transmissions, retention, legal holds, privacy masks, the register."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from beffroi.commands.schemas import CommandOut
from beffroi.core.dates import Instant
from beffroi.http.deps import Ctx, RowId
from beffroi.http.params import PageLimit, enum_list
from beffroi.video import (
    evidence,
    habilitations,
    holds,
    masks,
    retention,
    search,
    sessions,
    steering,
)
from beffroi.video.lifecycle import EntryKind, HoldState
from beffroi.video.schemas import (
    EntryOut,
    EntryPage,
    ExtractionCreate,
    ExtractionOut,
    HabilitationCreate,
    HabilitationOut,
    HoldCreate,
    HoldDecision,
    HoldOut,
    MaskOut,
    MaskSet,
    RegisterCheck,
    RetentionOut,
    RetentionSet,
    Revocation,
    SessionCommand,
    SessionCreate,
    SessionOut,
    TransmissionCreate,
)

router = APIRouter(prefix="/video", tags=["video"])

CameraId = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$", description="Camera id")]
Preset = Annotated[int, Path(ge=0, le=255, description="Preset (0: every view)")]
Kinds = Annotated[list[EntryKind], enum_list("kind", EntryKind, "Entry kinds")]
HoldStates = Annotated[list[HoldState], enum_list("state", HoldState, "Hold states")]


@router.get("/reasons")
async def reasons(ctx: Ctx) -> list[str]:
    """The reasons an agent picks from to open a view session (``BEFFROI_VIDEO_REASONS``)."""
    return sessions.reasons(ctx)


@router.post("/habilitations", status_code=status.HTTP_201_CREATED)
async def record_habilitation(ctx: Ctx, body: HabilitationCreate) -> HabilitationOut:
    """Record an agent's habilitation (video:manage): authority, reference, communes or
    cameras covered, validity."""
    return await habilitations.record_habilitation(ctx, body)


@router.get("/habilitations")
async def list_habilitations(
    ctx: Ctx,
    username: Annotated[str | None, Query(max_length=64)] = None,
    active: bool | None = None,
) -> list[HabilitationOut]:
    """Habilitations in your scope (managers), or your own (agents), newest first."""
    return await habilitations.list_habilitations(ctx, username=username, active=active)


@router.get("/habilitations/{habilitation_id}")
async def get_habilitation(ctx: Ctx, habilitation_id: RowId) -> HabilitationOut:
    """One habilitation."""
    return await habilitations.get_habilitation(ctx, habilitation_id)


@router.post("/habilitations/{habilitation_id}/revoke")
async def revoke_habilitation(
    ctx: Ctx, habilitation_id: RowId, body: Revocation
) -> HabilitationOut:
    """End a habilitation now, with a reason."""
    return await habilitations.revoke_habilitation(ctx, habilitation_id, body)


@router.post("/sessions", status_code=status.HTTP_201_CREATED)
async def open_session(ctx: Ctx, body: SessionCreate) -> SessionOut:
    """Open a view session: cameras your habilitations cover, a reason from the list; the
    answer holds a signed, short-lived stream URL per camera."""
    return await sessions.open_session(ctx, body)


@router.get("/sessions")
async def list_sessions(
    ctx: Ctx,
    mine: bool = True,
    open: bool = False,
    limit: PageLimit = 100,
) -> list[SessionOut]:
    """Your sessions (with their stream URLs while open), or every one in scope for
    auditors and managers (``mine=false``)."""
    return await sessions.list_sessions(ctx, mine=mine, open_only=open, limit=limit)


@router.get("/sessions/{session_id}")
async def get_session(ctx: Ctx, session_id: RowId) -> SessionOut:
    """A session; its agent gets fresh stream URLs while it is open."""
    return await sessions.get_session(ctx, session_id)


@router.post("/sessions/{session_id}/end")
async def end_session(ctx: Ctx, session_id: RowId) -> SessionOut:
    """End a session now."""
    return await sessions.end_session(ctx, session_id)


@router.post("/sessions/{session_id}/commands", status_code=status.HTTP_201_CREATED)
async def steer(ctx: Ctx, session_id: RowId, body: SessionCommand) -> CommandOut:
    """Steer a camera of your open session (presets, PTZ, tours): the command goes through
    the command lifecycle with the session's reason."""
    return await steering.steer(ctx, session_id, body)


@router.post("/extractions", status_code=status.HTTP_201_CREATED)
async def extract(ctx: Ctx, body: ExtractionCreate) -> ExtractionOut:
    """Have the VMS export a period of a camera your habilitations cover."""
    return await evidence.extract(ctx, body)


@router.post("/transmissions", status_code=status.HTTP_201_CREATED)
async def transmit(ctx: Ctx, body: TransmissionCreate) -> ExtractionOut:
    """Record the handing over of an extraction on a requisition."""
    return await evidence.transmit(ctx, body)


@router.get("/cameras/{camera_id}/retention")
async def get_retention(ctx: Ctx, camera_id: CameraId) -> RetentionOut:
    """A camera's retention period: its own, or the default."""
    return await retention.get_retention(ctx, camera_id)


@router.put("/cameras/{camera_id}/retention")
async def set_retention(ctx: Ctx, camera_id: CameraId, body: RetentionSet) -> RetentionOut:
    """Record a camera's authorised retention period (at most 30 days)."""
    return await retention.set_retention(ctx, camera_id, body)


@router.get("/cameras/{camera_id}/masks")
async def list_masks(ctx: Ctx, camera_id: CameraId) -> list[MaskOut]:
    """A camera's privacy masks, by preset."""
    return await masks.list_masks(ctx, camera_id)


@router.put("/cameras/{camera_id}/masks/{preset}")
async def set_masks(ctx: Ctx, camera_id: CameraId, preset: Preset, body: MaskSet) -> MaskOut:
    """Record a camera's privacy masks for a preset and send them to the VMS."""
    return await masks.set_masks(ctx, camera_id, preset, body)


@router.post("/holds", status_code=status.HTTP_201_CREATED)
async def request_hold(ctx: Ctx, body: HoldCreate) -> HoldOut:
    """Ask for a legal hold; another manager approves it."""
    return await holds.request_hold(ctx, body)


@router.get("/holds")
async def list_holds(ctx: Ctx, states: HoldStates) -> list[HoldOut]:
    """Legal holds in scope, newest first."""
    return await holds.list_holds(ctx, states)


@router.get("/holds/{hold_id}")
async def get_hold(ctx: Ctx, hold_id: RowId) -> HoldOut:
    """One legal hold."""
    return await holds.get_hold(ctx, hold_id)


@router.post("/holds/{hold_id}/approve")
async def approve_hold(ctx: Ctx, hold_id: RowId, body: HoldDecision) -> HoldOut:
    """Approve placing or lifting a hold (not the person who asked)."""
    return await holds.approve_hold(ctx, hold_id, body)


@router.post("/holds/{hold_id}/refuse")
async def refuse_hold(ctx: Ctx, hold_id: RowId, body: HoldDecision) -> HoldOut:
    """Refuse a hold asked, or withdraw a lift asked, with a reason."""
    return await holds.refuse_hold(ctx, hold_id, body)


@router.post("/holds/{hold_id}/lift")
async def lift_hold(ctx: Ctx, hold_id: RowId, body: HoldDecision) -> HoldOut:
    """Ask to lift a placed hold, with a reason; another manager approves."""
    return await holds.request_lift(ctx, hold_id, body)


def _query(
    camera_id: str | None,
    agent: str | None,
    kinds: list[EntryKind],
    since: Instant | None,
    until: Instant | None,
    before: int | None = None,
    limit: int = 100,
) -> search.RegisterQuery:
    return search.RegisterQuery(camera_id, agent, tuple(kinds), since, until, before, limit)


Camera = Annotated[str | None, Query(max_length=64)]
Agent = Annotated[str | None, Query(max_length=200)]


@router.get("/register")
async def search_register(
    ctx: Ctx,
    kinds: Kinds,
    camera_id: Camera = None,
    agent: Agent = None,
    since: Instant | None = None,
    until: Instant | None = None,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: PageLimit = 100,
) -> EntryPage:
    """Register entries in scope (video:register), newest first; filters by camera, agent,
    kind and period; ``before`` pages on."""
    rows, next_before = await search.search(
        ctx, _query(camera_id, agent, kinds, since, until, before, limit)
    )
    return EntryPage(items=[EntryOut.model_validate(r) for r in rows], next_before=next_before)


@router.get(
    "/register/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/pdf": {}}}},
)
async def export_register(
    ctx: Ctx,
    kinds: Kinds,
    format: Literal["csv", "pdf"] = "csv",
    camera_id: Camera = None,
    agent: Agent = None,
    since: Instant | None = None,
    until: Instant | None = None,
) -> Response:
    """The register entries matching the filters, oldest first, as CSV or PDF."""
    rows = await search.export_rows(ctx, _query(camera_id, agent, kinds, since, until))
    if format == "pdf":
        body = search.to_pdf(rows, "Registre de vidéoprotection")
        media = "application/pdf"
    else:
        body = search.to_csv(rows).encode()
        media = "text/csv; charset=utf-8"
    disposition = f'attachment; filename="video-register.{format}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


@router.get("/register/verify")
async def verify_register(ctx: Ctx) -> RegisterCheck:
    """Walk the register's hash chain from its checkpoint (metropolis-wide auditors)."""
    walk = await search.verify_register(ctx)
    return RegisterCheck(ok=walk.ok, checked=walk.checked, problems=walk.problems)
