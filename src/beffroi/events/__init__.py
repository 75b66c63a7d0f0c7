"""Carrying the hub's events between processes (the hub itself is :mod:`beffroi.core.events`)."""
