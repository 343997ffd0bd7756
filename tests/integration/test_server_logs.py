"""Logs of a real server with two workers under concurrent load (issue 10, point 6):
every line on stdout and stderr is one JSON record, and a failing handler gives exactly one
record carrying the traceback and the request id."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.faults import free_port

REQUESTS = 400
CONCURRENCY = 24
FAILING_EVERY = 25
SERVER = (
    "from web.__main__ import run_server; from web.settings import get_settings; "
    "run_server(get_settings(), 'tests.support.log_probe:create_app')"
)


def _wait_until_live(base: str, process: subprocess.Popen, err: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early:\n{err.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/healthz/live", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("server did not start")


async def _load(base: str) -> list[str]:
    """Fire REQUESTS requests, CONCURRENCY at a time, each on a new connection (so both
    workers get some); return the request ids sent to the failing route."""
    failing: list[str] = []
    limits = httpx.Limits(max_keepalive_connections=0)
    semaphore = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def one(number: int) -> None:
            path = ("/", "/services", "/healthz/live", "/nowhere")[number % 4]
            request_id = f"logtest-{number}"
            if number % FAILING_EVERY == 0:
                path = "/_probe/boom"
                failing.append(request_id)
            async with semaphore:
                response = await client.get(path, headers={"X-Request-ID": request_id})
            assert response.status_code in (200, 404, 500), (path, response.status_code)

        await asyncio.gather(*(one(n) for n in range(REQUESTS)))
    return failing


def test_two_workers_under_load_write_one_json_record_per_line(tmp_path, redis_server):
    port = free_port()
    env = {
        **os.environ,
        "ENV": "development",
        "DATA_DIR": str(tmp_path / "data"),
        "REDIS_URL": redis_server.url,
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "INFO",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "web", "migrate"], env=env, check=True, timeout=60)
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER], env=env, stdout=stdout, stderr=stderr
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_live(base, server, err)
            failing = asyncio.run(_load(base))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)

    records = []
    for stream in (out, err):
        for number, line in enumerate(stream.read_text(encoding="utf-8").splitlines(), 1):
            try:
                records.append(json.loads(line))
            except ValueError:
                pytest.fail(f"{stream.name} line {number} is not one JSON record: {line[:300]!r}")
    requests = [r for r in records if r.get("event") == "request"]
    assert len(requests) >= REQUESTS
    assert len({r["pid"] for r in requests}) == 2, "both workers should have served"
    assert any(r.get("logger", "").startswith("uvicorn") for r in records)
    for request_id in failing:
        with_traceback = [
            r for r in records if r.get("request_id") == request_id and "exception" in r
        ]
        assert len(with_traceback) == 1, request_id
        assert "Traceback" in with_traceback[0]["exception"]
        assert "probe failure for the log test" in with_traceback[0]["exception"]
