"""Citizen reports: Open311 GeoReport v2 and the citizen line (docs/reports.md)."""
