"""The core every area builds on, and which imports no area.

Errors, time, identifiers, who is acting and what they may do (principal, roles,
permissions, the domains of equipment), the runtime and context handed to services, the
audit log's writer, the use-case helper, the event base and hub, and the astronomical
clock. An area imports ``beffroi.core`` and other areas' service and query functions;
the contracts in ``pyproject.toml`` (``[tool.importlinter]``) keep it so.
"""
