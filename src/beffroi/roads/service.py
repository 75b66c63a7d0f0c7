"""Use cases of the roads area, in one place for the adapters (routes, jobs)."""

from beffroi.roads.lifecycle import advance
from beffroi.roads.signs import clear, display, signs_of
from beffroi.roads.situations import (
    cancel_situation,
    create_situation,
    end_situation,
    get_situation,
    list_situations,
    update_situation,
)

__all__ = [
    "advance",
    "cancel_situation",
    "clear",
    "create_situation",
    "display",
    "end_situation",
    "get_situation",
    "list_situations",
    "signs_of",
    "update_situation",
]
