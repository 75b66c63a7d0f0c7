"""Refusals are audited too: who tried what, and why it was refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from beffroi.core import audit
from beffroi.core.context import Context

T = TypeVar("T")


async def refused(
    ctx: Context,
    action: str,
    call: Callable[[], Awaitable[T]],
    *,
    target_type: str = "intervention",
    target_id: Any = None,
) -> T:
    """Run ``call``; a refusal (bad input, no right, wrong state) is audited, then raised."""
    return await audit.refused(ctx, action, call, target_type=target_type, target_id=target_id)
