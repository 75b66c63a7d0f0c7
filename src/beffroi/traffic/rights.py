"""Who may change what traffic controllers run: a pure check on the principal."""

from __future__ import annotations

from beffroi.core.context import Context
from beffroi.core.errors import PermissionDenied
from beffroi.core.principal import Permission
from beffroi.core.vocabulary import Domain


def require_planner(ctx: Context) -> None:
    """Changing what traffic controllers run (configurations, plans, timetables,
    corridors) takes ``traffic:plan`` and the traffic domain: a lighting operator, or a
    supervisor kept to lighting, changes no plan."""
    ctx.principal.require(Permission.TRAFFIC_PLAN)
    if not ctx.principal.in_domain(Domain.TRAFFIC):
        raise PermissionDenied(f"{ctx.principal.name} does not act in the traffic domain")
