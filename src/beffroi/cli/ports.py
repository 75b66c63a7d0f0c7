"""A listening port that is already taken: said in one line, never with a traceback.

``beffroi demo`` takes another port when its default one is taken (the expected path on
a machine that already runs a broker or a web server); ``serve`` and ``gateway`` were told
where to listen, so they stop and say which variable to change.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator
from contextlib import contextmanager

# amqtt logs a failed start itself (an error and a traceback) before it raises.
AMQTT_BROKER_LOGGER = "amqtt.broker"


class PortTaken(Exception):
    """A port to listen on is taken; the message says which, and what to set instead."""


def port_taken(exc: BaseException | None) -> bool:
    """Whether ``exc`` is, or was caused by, a bind on an address already in use."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class _DropTakenPort(logging.Filter):
    """Drops a record whose exception is a taken port; lets every other one through."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and port_taken(record.exc_info[1]))


@contextmanager
def quiet_taken_port() -> Iterator[None]:
    """While it is open, amqtt's broker does not log a failed start caused by a taken port
    (the caller says it in one line); any other failure is logged as before."""
    logger = logging.getLogger(AMQTT_BROKER_LOGGER)
    dropper = _DropTakenPort()
    logger.addFilter(dropper)
    try:
        yield
    finally:
        logger.removeFilter(dropper)
