"""Words every part of Beffroi shares."""

from __future__ import annotations

from enum import StrEnum


class Domain(StrEnum):
    """The operational domain an equipment type belongs to; operators are granted domains."""

    LIGHTING = "lighting"
    TRAFFIC = "traffic"
    VIDEO = "video"
    ROADS = "roads"
    ENVIRONMENT = "environment"
    # Public safety: what the security and municipal police desks watch and act on (the
    # operations log's security and police desks; docs/opslog.md).
    SECURITY = "security"
