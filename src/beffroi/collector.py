"""The cyclic garbage collector of a long-running Beffroi process.

CPython starts a young collection every 700 new container objects, and every tenth one a
middle one, and so on up to full collections over everything alive. A hub process holds
hundreds of thousands of long-lived objects (the console's board, the device directory,
the catalogue's validators) and makes tens of thousands of short-lived ones a second under
load (messages, rows, events): measured with ``python -m bench.commands``, collections took
7.2 of the hub's 20.6 CPU seconds while it dimmed the whole city; with the thresholds below,
1.3 of 14.4. Reference cycles are still collected, in larger and rarer passes.
"""

from __future__ import annotations

import gc
from typing import Final

# New container objects between young collections (CPython's default: 700).
YOUNG: Final = 50_000
# Young collections between middle ones, middle ones between full ones (default 10, 10).
MIDDLE: Final = 20
FULL: Final = 10


def tune() -> None:
    """Set this process's collection thresholds (call once, at the start of a process)."""
    gc.set_threshold(YOUNG, MIDDLE, FULL)
