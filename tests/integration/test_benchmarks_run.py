"""The benchmarks still run against today's forms and routes (a quick pass of each)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.support.database import in_ci


@pytest.mark.parametrize("module", ["bench.upload_http", "bench.letters_lookup"])
def test_benchmark_runs(module, tmp_path):
    env = {
        **os.environ,
        "BENCH_QUICK": "1",
        "DATA_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", module], env=env, capture_output=True, text=True, timeout=110
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert "throughput" in result.stdout, result.stdout


def _quick_pass(module: str) -> str:
    """Run a benchmark's quick pass on its own SQLite data; its output, once it passed."""
    env = {**os.environ, "BENCH_QUICK": "1", "LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", module], env=env, capture_output=True, text=True, timeout=110
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


def test_sign_in_memory_benchmark_runs_within_its_budget():
    output = _quick_pass("bench.sign_in_memory")
    assert "concurrent sign-ins: RSS before" in output, output


def test_server_benchmark_runs_against_a_real_server():
    """bench/server_load.py's quick pass: a real server, wrk, every row of the table printed."""
    if not shutil.which("wrk"):
        if in_ci():
            pytest.fail("CI needs wrk (make test installs it)")
        pytest.skip("wrk is not installed (make bench installs it)")
    output = _quick_pass("bench.server_load")
    for row in ("lookup ÷ /healthz throughput", "lookup p99 ÷ /healthz p99", "search all years"):
        assert row in output, output
