"""IO managers: each maps Dagster's context (asset key, partition window) onto a resource's call."""
