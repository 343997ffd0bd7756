"""Benchmarks: `make bench` runs them all; each module runs alone with `python -m bench.<name>`."""
