"""History: what ran where and when, read from Git (never from a cluster)."""
