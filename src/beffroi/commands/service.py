"""Use cases of remote commands: the area's public face (the API, the tests and other areas
import them from here). Each lives in the module of its job:

- :mod:`~beffroi.commands.single`: send one command (or create one inside another area's
  use case: the video area's steering); approve, refuse or cancel it;
- :mod:`~beffroi.commands.batches`: one command to many assets; approve, refuse, cancel
  or retry the batch;
- :mod:`~beffroi.commands.reading`: a command, lists of commands, a batch's progress;

with :mod:`~beffroi.commands.creation` (new command rows) and
:mod:`~beffroi.commands.targets` (the assets a batch addresses) beneath them.
"""

from __future__ import annotations

from beffroi.commands.batches import (
    approve_batch,
    cancel_batch,
    create_batch,
    deny_batch,
    retry_batch,
)
from beffroi.commands.reading import (
    asset_history,
    batch_children,
    get_batch,
    get_command,
    list_batches,
    list_commands,
    to_out,
)
from beffroi.commands.single import (
    approve_command,
    cancel_command,
    create_in,
    deny_command,
    send_command,
)

__all__ = [
    "approve_batch",
    "approve_command",
    "asset_history",
    "batch_children",
    "cancel_batch",
    "cancel_command",
    "create_batch",
    "create_in",
    "deny_batch",
    "deny_command",
    "get_batch",
    "get_command",
    "list_batches",
    "list_commands",
    "retry_batch",
    "send_command",
    "to_out",
]
