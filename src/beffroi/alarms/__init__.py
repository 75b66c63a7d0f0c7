"""Alarms: faults, rule breaches, failed commands and silences, as one list operators work."""
