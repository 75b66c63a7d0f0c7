"""A run's timeline line and hub event for each move, written in the move's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.plans.events import RunChanged
from beffroi.plans.models import PlanRun, PlanRunEvent, PlanRunStep


def commune_of(run: PlanRun) -> str | None:
    """The commune an audit entry names: the run's only commune, if it has one."""
    return run.communes[0] if run.communes and len(run.communes) == 1 else None


def note(
    session: AsyncSession,
    run: PlanRun,
    actor: str,
    kind: str,
    now: datetime,
    step: PlanRunStep | None = None,
    **detail: Any,
) -> RunChanged:
    """Add a line to the run's timeline; returns the event to publish once committed."""
    session.add(
        PlanRunEvent(
            run_id=run.id,
            at=now,
            actor=actor,
            kind=kind,
            position=None if step is None else step.position,
            detail={"state": step.state if step else run.state, **detail},
        )
    )
    return RunChanged(
        run.id,
        run.state,
        -1 if step is None else step.position,
        "" if step is None else step.state,
        now,
        tuple(run.communes or ()),
    )
