"""Letter lookup under concurrent load, against a trivial route of the same app.

One app, in process (Litestar's ASGI test client, no network), SQLite in a temporary
DATA_DIR (or DATABASE_URL when set), demo data seeded, the demo citizen signed in. Two
rounds each way, alternating: `CONCURRENCY` workers send `REQUESTS` requests in all, either
`GET /letters/track?…` for the demo letter (found: the full result with its history, as
an htmx fragment, 1 rate-limit check + 2-3 queries) or `GET /healthz` (one `SELECT 1`).
Reported: throughput (requests/s) and p50/p99 latency of each, and the ratios
lookup/healthz. Rate limits are raised for the run. Fails (exit 1) if any lookup
does not answer 200.

Run: `python -m bench.letters_lookup`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace

import httpx

QUICK = os.environ.get("BENCH_QUICK") == "1"  # a smoke run for the test suite
REQUESTS = 40 if QUICK else 1000
CONCURRENCY = 20
ROUNDS = 1 if QUICK else 2


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _load(client, path: str, params: dict | None, headers: dict) -> dict[str, float]:
    latencies: list[float] = []
    statuses: set[int] = set()
    remaining = iter(range(REQUESTS))

    async def worker() -> None:
        for _ in remaining:
            started = time.perf_counter()
            response = await client.get(path, params=params, headers=headers)
            latencies.append(time.perf_counter() - started)
            statuses.add(response.status_code)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    return {
        "rps": REQUESTS / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": _percentile(latencies, 0.99) * 1000,
        "ok": float(statuses == {200}),
    }


async def run() -> dict[str, dict[str, float]]:
    from bench.support import sign_in
    from models.letters import CustomsBody
    from web.app import create_app
    from web.devdata.demo_data import seed_demo_data
    from web.platform import db
    from web.settings import get_settings

    settings = replace(
        get_settings(),
        rate_limit_per_minute=10_000_000,
        letter_lookup_rate_limit_per_minute=10_000_000,
        sign_in_rate_limit_per_minute=10_000,
    )
    await db.migrate(settings)
    await db.init_db(settings)
    try:
        await seed_demo_data(settings)
    finally:
        await db.close_db()

    app = create_app(settings)
    # Lifespan and requests on this one loop (httpx's ASGI transport), so the workers
    # really are concurrent and the lifespan closes every connection at the end.
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
        ) as client,
    ):
        await sign_in(client, "vetendas")
        body = await CustomsBody.get(name="Bakı Baş Gömrük İdarəsi")
        params = {
            "body": str(body.id),
            "number": "M-1024/2026",
            "registered-day": "03",
            "registered-month": "11",
            "registered-year": "2026",
        }
        htmx = {"hx-request": "true"}
        probe = await client.get("/letters/track", params=params, headers=htmx)
        assert "Elnur Həsənov" in probe.text, "the demo letter was not found"
        results: dict[str, list[dict[str, float]]] = {"lookup": [], "healthz": []}
        for _ in range(ROUNDS):
            results["healthz"].append(await _load(client, "/healthz", None, {}))
            results["lookup"].append(await _load(client, "/letters/track", params, htmx))
    # Best round of each (least disturbed by the machine).
    return {
        name: {
            "rps": max(r["rps"] for r in rounds),
            "p50": min(r["p50"] for r in rounds),
            "p99": min(r["p99"] for r in rounds),
            "ok": min(r["ok"] for r in rounds),
        }
        for name, rounds in results.items()
    }


def main() -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="egomruk-bench-"))
    results = asyncio.run(run())
    lookup, health = results["lookup"], results["healthz"]
    print(f"{REQUESTS} requests, {CONCURRENCY} concurrent, best of {ROUNDS} rounds, in process")
    print(f"{'route':16} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}")
    for name, row in (("letter lookup", lookup), ("/healthz", health)):
        print(f"{name:16} {row['rps']:9.0f} {row['p50']:9.1f} {row['p99']:9.1f}")
    print(
        f"lookup / healthz: throughput {lookup['rps'] / health['rps']:.2f}x, "
        f"p99 latency {lookup['p99'] / health['p99']:.2f}x"
    )
    return 0 if lookup["ok"] == 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
