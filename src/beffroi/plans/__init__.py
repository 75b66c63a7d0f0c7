"""Crisis plans: prepared steps (group commands, checklists, notifications) started under
one four-eyes approval, tracked step by step, and reported after the event."""
