"""The in-process event hub and the events areas publish on it."""

from beffroi.events.hub import EventHub, Subscription

__all__ = ["EventHub", "Subscription"]
