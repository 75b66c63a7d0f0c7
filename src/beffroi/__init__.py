"""Beffroi: the open-source connected control room of a metropolis's public space."""

__version__ = "0.1.0"
