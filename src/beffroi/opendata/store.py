"""Where snapshot files live: a small interface, and its filesystem implementation.

Warehouse-style: the backend is chosen by configuration (``BEFFROI_OPENDATA_STORE``), so
an object store can take the filesystem's place without the rest of the area knowing. A
snapshot is written once under a new version and never rewritten (the file is made
read-only); the database row that names it is what publishes it.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from beffroi.config import Settings

_SAFE = re.compile(r"^[a-z0-9-]{1,64}$")


class SnapshotStore(Protocol):
    """Versioned, immutable snapshot files of the datasets."""

    def write(self, dataset: str, version: int, data: bytes) -> None:
        """Keep ``data`` as ``version`` of ``dataset`` (replacing an unpublished leftover)."""
        ...

    def path(self, dataset: str, version: int) -> Path:
        """A local file holding that version, to read or stream."""
        ...

    def delete(self, dataset: str, version: int) -> None:
        """Forget that version (no error if it is gone)."""
        ...


class FilesystemStore:
    """Snapshots as Parquet files ``<root>/<dataset>/<version>.parquet``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, dataset: str, version: int) -> Path:
        """The file of that version (ids are checked: no path can leave the root)."""
        if not _SAFE.match(dataset) or version < 1:
            raise ValueError(f"bad snapshot name {dataset!r} {version!r}")
        return self.root / dataset / f"{version:08d}.parquet"

    def write(self, dataset: str, version: int, data: bytes) -> None:
        """Write to a temporary file beside the target, then rename it into place, so a
        reader never sees half a file."""
        target = self.path(dataset, version)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o444)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def delete(self, dataset: str, version: int) -> None:
        """Remove that version's file."""
        with contextlib.suppress(FileNotFoundError):
            self.path(dataset, version).unlink()


def store_of(settings: Settings) -> SnapshotStore:
    """The snapshot store the settings choose."""
    root = settings.opendata_dir or settings.data_dir / "opendata"
    return FilesystemStore(root)
