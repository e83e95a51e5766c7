"""Model backends: one per client library or REST API."""
