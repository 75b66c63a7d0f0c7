"""Lighting energy: what the cabinets metered, against last year and against full power."""
