"""Open data: the hub's data published to everyone, without login (docs/opendata.md)."""
