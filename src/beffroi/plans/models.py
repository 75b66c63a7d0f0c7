"""Tables of the crisis plans: plans (templates of steps), notification lists, runs, the
steps of each run and its timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.db import Base, BigId, JSONType, UTCDateTime


class Plan(Base):
    """A prepared plan: its ordered steps (``steps``: :class:`schemas.StepSpec` as JSON).

    ``communes`` ``NULL``: the whole metropolis. Who sees a plan sees all its communes."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(2000))
    communes: Mapped[list[str] | None] = mapped_column(JSONType)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))


class NotifyList(Base):
    """People to tell: ``recipients`` [{"name", "channel": webhook|email, "target"}]; a
    webhook is the SMS gateway's URL (the gateway texts the number in the payload)."""

    __tablename__ = "plan_notify_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    communes: Mapped[list[str] | None] = mapped_column(JSONType)
    recipients: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class PlanRun(Base):
    """One start of a plan, at a level: the plan's steps are copied into its run steps,
    so changing the plan later changes no run."""

    __tablename__ = "plan_runs"
    __table_args__ = (Index("ix_plan_runs_state", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    plan_name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    communes: Mapped[list[str] | None] = mapped_column(JSONType)
    level: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(500))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_by: Mapped[str] = mapped_column(String(200))
    started_by_user_id: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(200))


class PlanRunStep(Base):
    """A step of a run: its copy of the plan's step, its state, who moved it and when,
    its batch (command) or deliveries (notify), and its ticked items (checklist)."""

    __tablename__ = "plan_run_steps"

    run_id: Mapped[int] = mapped_column(ForeignKey("plan_runs.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(String(16))
    batch_id: Mapped[str | None] = mapped_column(String(64))
    delivery_ids: Mapped[list[int]] = mapped_column(JSONType)
    # [{"text", "done_by", "done_at"}] for a checklist, else [].
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    outcome: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_by: Mapped[str | None] = mapped_column(String(200))


class PlanRunEvent(Base):
    """A line of a run's timeline: what happened (``kind``), to which step, by whom."""

    __tablename__ = "plan_run_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("plan_runs.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    position: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType)
