"""The runtime: where training runs (a local process pool, or a Ray cluster) and what every replica shares."""
