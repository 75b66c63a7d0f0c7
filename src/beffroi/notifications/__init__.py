"""Notifications: alarms routed to webhooks and e-mail, with retries and escalation."""
