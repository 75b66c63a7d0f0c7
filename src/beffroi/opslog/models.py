"""Tables of the operations log: its records (entries and amendments, one hash chain),
the objects they name (an index for search), and the chain's head."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.db import Base, BigId, JSONType, UTCDateTime


class LogRecord(Base):
    """An entry of the log, or an amendment of one (``amends``: the entry's ``seq``).

    Never updated nor deleted: ``seq`` is the record's place in the chain and its id, and
    ``hash`` covers its content and ``prev_hash`` (``core.chain``). An amendment repeats
    its entry's desk, category and commune, so that scope and search read one row.
    """

    __tablename__ = "opslog_records"
    __table_args__ = (Index("ix_opslog_records_desk_occurred", "desk", "occurred_at"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    amends: Mapped[int | None] = mapped_column(ForeignKey("opslog_records.seq"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    author: Mapped[str] = mapped_column(String(200))
    author_user_id: Mapped[int | None] = mapped_column(Integer)
    desk: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(20), index=True)
    commune_code: Mapped[str] = mapped_column(ForeignKey("communes.code"), index=True)
    text: Mapped[str] = mapped_column(String(4000))
    place: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # {"asset_ids": [...], "alarm_ids": [...], ...}: what the hash covers.
    links: Mapped[dict[str, Any]] = mapped_column(JSONType)
    follows: Mapped[int | None] = mapped_column(ForeignKey("opslog_records.seq"))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class LogLink(Base):
    """An object an entry names (``kind``: the field, ``ref``: its id as text), so the
    log is searched by asset or alarm; the chain covers the entry's ``links`` itself."""

    __tablename__ = "opslog_links"
    __table_args__ = (Index("ix_opslog_links_kind_ref", "kind", "ref"),)

    seq: Mapped[int] = mapped_column(ForeignKey("opslog_records.seq"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), primary_key=True)


class LogHead(Base):
    """The chain's head (one row, locked by every append): its last sequence and hash."""

    __tablename__ = "opslog_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, default=0)
    hash: Mapped[str] = mapped_column(String(64))
