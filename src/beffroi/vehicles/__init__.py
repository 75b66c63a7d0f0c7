"""Service vehicles: their positions and tracks, the nearest crews, salting routes."""
