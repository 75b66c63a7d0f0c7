"""Monitoring rules: declarative conditions on telemetry that raise and clear alarms.

- :mod:`.conditions`: the kinds of rule as pure functions (threshold with hysteresis and
  minimum duration, no data, state mismatch by the astronomical clock, rate of change);
- :mod:`.params`: their parameters (JSON Schema per kind, checked against the catalogue);
- :mod:`.engine`: evaluation in the ingest transaction; :mod:`.states`: the shared state;
  :mod:`.disabling`: a rule whose evaluation failed is disabled;
- :mod:`.jobs`: the periodic search for silences;
- :mod:`.reading`, :mod:`.editing` (over :mod:`.records`) and :mod:`.api`: the rules
  themselves, versioned and audited.
"""
