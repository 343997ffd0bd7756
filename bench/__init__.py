"""Benchmarks: `make bench` runs them all; each module runs alone with `python -m bench.<name>`."""

import os

# The benchmarks run the development demo (demo accounts, simulator); the server alone would
# treat an unset ENV as production.
os.environ.setdefault("ENV", "development")
