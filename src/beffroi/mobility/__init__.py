"""Mobility: bus priority at signalised intersections from the transit operator's vehicle
positions, and traffic counts aggregated per lane (docs/mobility.md)."""
