"""Tables of remote commands: the commands, their group batches and their history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.commands.lifecycle import AWAITING
from beffroi.db import Base, BigId, JSONType, UTCDateTime


class CommandBatch(Base):
    """One command sent to many assets: a child :class:`Command` per target."""

    __tablename__ = "command_batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    asset_type: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # How the targets were chosen (kind and arguments), kept to show and to audit.
    target: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # The communes of the targets, sorted: a batch is visible to whoever sees them all.
    communes: Mapped[list[str]] = mapped_column(JSONType)
    total: Mapped[int] = mapped_column(Integer)
    critical: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_by_user_id: Mapped[int | None] = mapped_column(Integer)
    approval_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retry_of: Mapped[str | None] = mapped_column(String(32))


# The rows ix_commands_awaiting_verification holds (the tracker's reads name the same
# conditions, so that the planner may use it).
AWAITING_ROWS = f"verification IN ({', '.join(repr(v) for v in AWAITING)}) AND sent_at IS NOT NULL"


class Command(Base):
    """One command to one asset, and where it is in its life (:mod:`.lifecycle`).

    The asset's type and commune are copied in: the command history outlives changes to
    the asset, and the scope filter needs no join.
    """

    __tablename__ = "commands"
    __table_args__ = (
        # The dispatcher's question: what is queued and due?
        Index("ix_commands_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_commands_asset_id_created_at", "asset_id", "created_at"),
        Index("ix_commands_batch_id_state", "batch_id", "state"),
        # The tracker's question when readings arrive: which commands sent to these assets
        # await their verification? Only those rows, so the answer does not grow with each
        # asset's history of commands (bench.command_history: with 50 past commands a light,
        # 70-80 ms for 9,000 lights, against about 1 s through the asset's index). It costs
        # each move of an awaiting command about a quarter more.
        Index(
            "ix_commands_awaiting_verification",
            "asset_id",
            postgresql_where=text(AWAITING_ROWS),
            sqlite_where=text(AWAITING_ROWS),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # No foreign keys to the batch and the asset (nor from the transitions to the command):
    # the commands service writes these rows from the targets and the batch it has just
    # read or written in the same transaction, and assets, batches and commands are never
    # deleted (an asset is decommissioned). A key checked by the database costs an index
    # probe and a row lock per child and per move: about 1 s of database time for one
    # city-wide command, and protects nothing the service does not (migration 0028).
    batch_id: Mapped[str | None] = mapped_column(String(32))
    asset_id: Mapped[str] = mapped_column(String(64))
    asset_type: Mapped[str] = mapped_column(String(64))
    # Not indexed: the lists filtered by commune are read newest first (created_at).
    commune_code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    critical: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))
    verification: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    timeout_s: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_by_user_id: Mapped[int | None] = mapped_column(Integer)
    approval_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The field gateway its last attempt went through (None: straight to the device): a
    # gateway's bulk reply may answer only for commands it was given.
    sent_via: Mapped[str | None] = mapped_column(String(64))
    reply_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verify_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CommandTransition(Base):
    """One move of one command: the state entered, when, and who or what caused it."""

    __tablename__ = "command_transitions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Not a foreign key: see Command.batch_id.
    command_id: Mapped[str] = mapped_column(String(32), index=True)
    state: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    actor_kind: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
