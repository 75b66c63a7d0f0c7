"""The video management system (VMS), seen through an adapter: Beffroi stores no video, it
asks the VMS for what the law lets an agent do (docs/video.md).

:class:`Vms` is what the area needs of any VMS: a short-lived signed stream URL for a
camera and profile, deleting footage older than a cut-off (except held periods), extracting
a period, applying privacy masks. :class:`SimulatedVms` plays one in-process, for the demo
and the tests; the setting ``BEFFROI_VMS_KIND`` chooses (a real VMS is reached through a
bridge that speaks this adapter's vocabulary).
"""

from __future__ import annotations

import hashlib
import hmac
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from beffroi.core.context import Context
from beffroi.core.errors import Conflict
from beffroi.core.time import utcnow
from beffroi.db import Database

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Period:
    """A span of footage, start included, end excluded."""

    start: datetime
    end: datetime

    def overlaps(self, other: Period) -> bool:
        """Whether the two spans share a moment."""
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class Deleted:
    """What the VMS deleted of one camera's footage: the spans, oldest first."""

    camera_id: str
    spans: tuple[Period, ...] = ()

    @property
    def hours(self) -> float:
        """How much footage was deleted, in hours."""
        return sum((s.end - s.start).total_seconds() for s in self.spans) / 3600


class Vms(Protocol):
    """What Beffroi asks of a video management system."""

    async def stream_url(
        self, camera_id: str, profile: str, *, session_id: int, expires_at: datetime
    ) -> str:
        """A URL playing the camera's live profile, valid until ``expires_at`` only."""
        ...

    async def delete_before(
        self, camera_id: str, cutoff: datetime, keep: Sequence[Period]
    ) -> Deleted:
        """Delete the camera's footage older than ``cutoff``, except what overlaps ``keep``
        (legal holds); say what was deleted (nothing, run again the same day)."""
        ...

    async def extract(self, camera_id: str, period: Period) -> str:
        """Export a period of footage; the export's id (the VMS keeps the file)."""
        ...

    async def apply_masks(
        self, camera_id: str, preset: int, polygons: Sequence[Sequence[Sequence[float]]]
    ) -> None:
        """Blank out these areas of the picture (image coordinates 0..1) for a preset (0:
        every view)."""
        ...


def _signature(key: bytes, path: str, expires: int) -> str:
    return hmac.new(key, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()


def sign_url(key: bytes, base_url: str, path: str, expires_at: datetime) -> str:
    """``base_url + path`` with its expiry and an HMAC-SHA256 over both."""
    expires = int(expires_at.timestamp())
    query = urlencode({"expires": expires, "signature": _signature(key, path, expires)})
    return f"{base_url.rstrip('/')}{path}?{query}"


def verify_url(key: bytes, url: str, now: datetime | None = None) -> bool:
    """Whether a stream URL was signed with ``key`` and has not expired: what the VMS checks
    before it plays the stream."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    try:
        expires = int(query["expires"][0])
        signature = query["signature"][0]
    except (KeyError, IndexError, ValueError):
        return False
    expected = _signature(key, parts.path, expires)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return False
    return (now or utcnow()).timestamp() < expires


def _hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass
class SimulatedVms:
    """An in-process VMS: every camera records continuously in one-hour segments since
    ``origin``; deletions, exports and masks are remembered; stream URLs are signed as a
    real VMS's would be. Deterministic: the same calls give the same answers."""

    key: bytes
    base_url: str
    origin: datetime
    deleted: dict[str, set[datetime]] = field(default_factory=dict)
    exports: dict[str, tuple[str, Period]] = field(default_factory=dict)
    masks: dict[tuple[str, int], list[list[list[float]]]] = field(default_factory=dict)

    async def stream_url(
        self, camera_id: str, profile: str, *, session_id: int, expires_at: datetime
    ) -> str:
        """A signed URL of ``/live/<camera>/<profile>/<session>``."""
        path = f"/live/{quote(camera_id, safe='')}/{quote(profile, safe='')}/{session_id}"
        return sign_url(self.key, self.base_url, path, expires_at)

    def _segments(self, until: datetime) -> list[datetime]:
        out, moment = [], self.origin
        while moment + HOUR <= until:
            out.append(moment)
            moment += HOUR
        return out

    async def delete_before(
        self, camera_id: str, cutoff: datetime, keep: Sequence[Period]
    ) -> Deleted:
        """Delete the whole segments ending by ``cutoff`` that no kept period overlaps."""
        gone = self.deleted.setdefault(camera_id, set())
        spans: list[Period] = []
        for start in self._segments(cutoff):
            segment = Period(start, start + HOUR)
            if start in gone or any(segment.overlaps(p) for p in keep):
                continue
            gone.add(start)
            if spans and spans[-1].end == start:
                spans[-1] = Period(spans[-1].start, segment.end)
            else:
                spans.append(segment)
        return Deleted(camera_id, tuple(spans))

    def has_footage(self, camera_id: str, period: Period) -> bool:
        """Whether every hour of ``period`` is still recorded."""
        if period.start < self.origin or period.end > utcnow():
            return False
        gone = self.deleted.get(camera_id, set())
        moment = _hour_floor(period.start)
        while moment < period.end:
            if moment in gone:
                return False
            moment += HOUR
        return True

    async def extract(self, camera_id: str, period: Period) -> str:
        """An export id derived from what is exported (and how many exports came before)."""
        if not self.has_footage(camera_id, period):
            raise Conflict(f"the VMS holds no complete footage of {camera_id} for that period")
        text = (
            f"{camera_id}|{period.start.isoformat()}|{period.end.isoformat()}|{len(self.exports)}"
        )
        export_id = "exp-" + hashlib.sha256(text.encode()).hexdigest()[:20]
        self.exports[export_id] = (camera_id, period)
        return export_id

    async def apply_masks(
        self, camera_id: str, preset: int, polygons: Sequence[Sequence[Sequence[float]]]
    ) -> None:
        """Remember the masks, as the VMS would apply them."""
        self.masks[(camera_id, preset)] = [[list(p) for p in poly] for poly in polygons]


# One simulated VMS per database (so per test, and one for a serving process): it must
# outlive a request, and two runtimes on two databases must not share footage.
_SIMULATED: weakref.WeakKeyDictionary[Database, SimulatedVms] = weakref.WeakKeyDictionary()


def vms_of(ctx: Context) -> Vms:
    """The VMS the settings choose (``BEFFROI_VMS_KIND``)."""
    return simulated_vms(ctx)


def simulated_vms(ctx: Context) -> SimulatedVms:
    """The in-process simulated VMS of this runtime (created on first use)."""
    found = _SIMULATED.get(ctx.db)
    if found is None:
        settings = ctx.settings
        origin = _hour_floor(utcnow()) - timedelta(days=settings.vms_history_days)
        found = SimulatedVms(settings.vms_key, settings.vms_base_url, origin)
        _SIMULATED[ctx.db] = found
    return found
