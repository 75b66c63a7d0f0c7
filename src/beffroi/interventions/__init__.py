"""Interventions: field work orders, teams, service levels and their KPIs."""
