"""Tables of the open data area: the snapshots published, and the API keys handed out.

A snapshot's file lives in the snapshot store (:mod:`beffroi.opendata.store`); its row
here says it exists, with its size and SHA-256, so a file altered in the store is seen.
API keys are stored as the SHA-256 of the key, never the key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.db import Base, BigId, UTCDateTime


class OpendataSnapshot(Base):
    """One immutable version of a dataset."""

    __tablename__ = "opendata_snapshots"

    dataset: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    row_count: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)


class OpendataApiKey(Base):
    """A key that raises a client's rate limit; only its hash is kept."""

    __tablename__ = "opendata_api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
