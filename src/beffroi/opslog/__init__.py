"""The operations log (main courante): what the people of the control room record, from
their desks, in one tamper-evident chain (docs/opslog.md)."""
