"""CPU time per request (issue 12): /healthz, a signed-in no-op, the signed-in home page and
a found letter lookup, measured as this process's CPU time (`time.process_time`), not
wall-clock time, so the figure holds on a machine other work is loading.

`noop` is a signed-in route that does nothing (bench/probe_app.py, mounted for the
benchmark): what every signed-in page pays before its own work.

The app runs in this process on SQLite (a temporary DATA_DIR, demo data seeded) and is
called straight through ASGI with a minimal driver (no HTTP client's own cost in the figure);
the demo citizen signs in first with httpx. Each route: 50 requests to warm up, then
`N` requests timed, in `ROUNDS` interleaved rounds; the median round is printed. aiosqlite's
thread runs in this process too, so the database driver's cost is included.

No goal is checked (the issue's goals are throughput ratios, measured by
bench/server_load.py); this says where the CPU goes. Run: `python -m bench.cpu_per_request`
(`N`, `ROUNDS`; `PROFILE=lookup` also prints cProfile's top functions of that route by own
and cumulative time, `PROFILE_OUT=file` keeps them for pstats; `SAVE_LOOKUP=file` writes
the lookup's fragment and the home page, to compare output before and after a change).
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import logging
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

QUICK = os.environ.get("BENCH_QUICK") == "1"  # the test suite's smoke run
N = int(os.environ.get("N", 20 if QUICK else 500))
ROUNDS = int(os.environ.get("ROUNDS", 1 if QUICK else 3))
HTMX = [(b"hx-request", b"true")]


async def call(app, path: str, query: str, headers: list[tuple[bytes, bytes]]) -> bytes:
    """One GET through the app's ASGI interface; the response body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"bench"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    chunks: list[bytes] = []
    status = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    assert status == [200], (path, status)
    return b"".join(chunks)


async def _run() -> None:
    from bench.harness import app_in_process
    from bench.probe_app import NOOP_PATH, noop
    from models.letters import CustomsBody
    from tests.integration.letters_support import lookup_params, sign_in

    async with app_in_process([noop]) as (app, c):
        await sign_in(c, "vetendas")
        cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items()).encode()
        body = await CustomsBody.get(name="Bakı Baş Gömrük İdarəsi")
        query = urlencode(lookup_params(body.id, "M-1024/2026", "03.11.2026"))
        signed = [(b"cookie", cookie)]
        routes = {
            "healthz": ("/healthz", "", []),
            "noop": (NOOP_PATH, "", signed),
            "home": ("/", "", signed),
            "lookup": ("/letters/track", query, [*signed, *HTMX]),
        }
        for path, q, headers in routes.values():
            for _ in range(50):
                page = await call(app, path, q, headers)
        found = await call(app, *routes["lookup"])
        assert "Elnur Həsənov".encode() in found, "the demo letter was not found"
        if out := os.environ.get("SAVE_LOOKUP"):
            Path(out).write_bytes(found)
            Path(out + ".home").write_bytes(await call(app, *routes["home"]))
        del page
        times: dict[str, list[float]] = {name: [] for name in routes}
        for _ in range(ROUNDS):
            for name, (path, q, headers) in routes.items():
                start = time.process_time()
                for _ in range(N):
                    await call(app, path, q, headers)
                times[name].append((time.process_time() - start) / N * 1e6)
        for name, samples in times.items():
            spread = f"{min(samples):.0f}–{max(samples):.0f}"
            print(f"{name:8} {statistics.median(samples):8.0f} µs CPU/request  ({spread})")
        lookup = statistics.median(times["lookup"])
        print(f"lookup ÷ healthz {lookup / statistics.median(times['healthz']):.2f}×, ", end="")
        print(f"lookup ÷ home {lookup / statistics.median(times['home']):.2f}×, ", end="")
        print(f"lookup ÷ noop {lookup / statistics.median(times['noop']):.2f}×")
        if target := os.environ.get("PROFILE"):
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(N):
                await call(app, *routes[target])
            profiler.disable()
            if dump := os.environ.get("PROFILE_OUT"):
                profiler.dump_stats(dump)
            for key in ("tottime", "cumulative"):
                text = io.StringIO()
                pstats.Stats(profiler, stream=text).sort_stats(key).print_stats(35)
                print(text.getvalue())


def main() -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    data_dir = Path(tempfile.mkdtemp(prefix="egomruk-bench-cpu-"))
    os.environ.update(
        ENV="development",
        DATA_DIR=str(data_dir),
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "INFO"),
        RATE_LIMIT_PER_MINUTE="100000000",
        LETTER_LOOKUP_RATE_LIMIT_PER_MINUTE="100000000",
        SIGN_IN_RATE_LIMIT_PER_MINUTE="100000",
    )
    for name in ("DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY", "SECRET_KEY", "STORAGE_URL"):
        os.environ.pop(name, None)
    try:
        asyncio.run(_run())
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
