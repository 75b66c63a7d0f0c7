"""What the operations log tells the event hub: a record was added to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from beffroi.core.event_kinds import kind
from beffroi.core.events import DomainEvent


@kind("opslog_record", relayed=True, console=True)
@dataclass(frozen=True, slots=True)
class RecordAdded(DomainEvent):
    """An entry (``record`` entry) or an amendment of entry ``entry_id`` was recorded.

    The console's stream sends it to whoever reads the log in ``commune``
    (``console/stream.py``); it names the record, never its text."""

    seq: int
    entry_id: int
    # "entry" or "amendment" (not ``kind``: the console's messages name their kind so).
    record: str
    desk: str
    category: str
    commune: str
    at: datetime
