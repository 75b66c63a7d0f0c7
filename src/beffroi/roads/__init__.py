"""Road operations: works, closures, events and incidents on the roads of the metropolis,
the message signs they feed, and their DATEX II publication (docs/roads.md)."""
