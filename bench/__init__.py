"""Benchmarks: `python -m bench.run` prints a table and writes BENCHMARKS.md."""
