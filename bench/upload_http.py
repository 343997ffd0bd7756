"""“Yeni sənəd” end to end: a 50 MB file through the web app, memory and speed.

The whole path a browser's upload takes, in process: httpx streams a multipart body (built
chunk by chunk, never whole) into the ASGI app; the route checks CSRF, parses the stream
(`web/storage/receiving.py`), sniffs and stores the file (`LocalDiskStorage`), moves it into
place and commits the rows. Limits are raised so a 50 MB file is allowed.

Memory: `tracemalloc` peak above the level before the request, for 5 MB and 50 MB files; flat
memory means the 50/5 ratio stays ≈1 (and the peak far below the file size).
Speed: best of five 50 MB uploads against writing the same bytes with plain aiofiles (and
fsync), alternating, tracemalloc off; reported as the throughput ratio `portal / aiofiles`.
Fails (exit 1) if the 50 MB peak exceeds 4 MB.

Run: `python -m bench.upload_http` (a temporary DATA_DIR with the demo data).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx

from bench.upload_memory import body, store_with_aiofiles

MB = 1000 * 1000
# BENCH_QUICK=1: tiny sizes, one round; the test suite runs it so the benchmark cannot rot.
QUICK = os.environ.get("BENCH_QUICK") == "1"
SIZES = (MB // 5, 2 * MB) if QUICK else (5 * MB, 50 * MB)
PEAK_BUDGET = 4 * 1024 * 1024
ROUNDS = 1 if QUICK else 5


async def multipart(boundary: str, token: str, total: int) -> AsyncIterator[bytes]:
    fields = {
        "_csrf_token": token,
        "kind": "invoice",
        "number": f"BENCH-{secrets.token_hex(3)}",
        "issued_on-day": "3",
        "issued_on-month": "11",
        "issued_on-year": "2026",
    }
    for name, value in fields.items():
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="bench.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    async for chunk in body(total):
        yield chunk
    yield f"\r\n--{boundary}--\r\n".encode()


async def upload(client: httpx.AsyncClient, total: int) -> None:
    boundary = secrets.token_hex(16)
    token = client.cookies.get("csrftoken")
    response = await client.post(
        "/documents/new",
        content=multipart(boundary, token, total),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 303, (response.status_code, response.text[:500])


async def run(data_dir: Path) -> tuple[dict[int, int], float, float]:
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    from bench.support import sign_in
    from web.app import create_app
    from web.devdata.demo_data import seed_demo_data
    from web.platform import db
    from web.settings import get_settings

    get_settings.cache_clear()
    settings = replace(
        get_settings(),
        upload_max_file_bytes=60 * MB,
        upload_max_document_bytes=60 * MB,
        party_quota_bytes=10**12,
        rate_limit_per_minute=10**6,
    )
    await db.migrate(settings)
    await db.init_db(settings)
    await seed_demo_data(settings)
    await db.close_db()

    app = create_app(settings)
    plain_dir = data_dir / "plain"
    plain_dir.mkdir()
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await sign_in(client, "vetendas2")
            await client.post(
                "/documents/obligation", data={"_csrf_token": client.cookies.get("csrftoken")}
            )
            await upload(client, 1 * MB)  # warm up

            tracemalloc.start()
            peaks = {}
            try:
                for total in SIZES:
                    tracemalloc.reset_peak()
                    baseline = tracemalloc.get_traced_memory()[0]
                    await upload(client, total)
                    peaks[total] = tracemalloc.get_traced_memory()[1] - baseline
            finally:
                tracemalloc.stop()

            portal_times, plain_times = [], []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                await upload(client, SIZES[-1])
                portal_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                await store_with_aiofiles(plain_dir, SIZES[-1])
                plain_times.append(time.perf_counter() - started)
    return peaks, min(portal_times), min(plain_times)


def main() -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="egomruk-bench-http-") as tmp:
        peaks, portal_seconds, plain_seconds = asyncio.run(run(Path(tmp)))
    small, large = (peaks[size] for size in SIZES)
    print(f"{'upload':>8} {'peak memory (tracemalloc)':>26}")
    for size in SIZES:
        print(f"{size / MB:>5g} MB {peaks[size] / 1024:>23.1f} KiB")
    print(f"peak ratio 50 MB / 5 MB: {large / small:.2f} (flat memory ≈ 1)")
    total = SIZES[-1] / MB
    print(
        f"50 MB: portal {portal_seconds:.3f} s ({total / portal_seconds:.0f} MB/s), "
        f"plain aiofiles {plain_seconds:.3f} s ({total / plain_seconds:.0f} MB/s), "
        f"best of {ROUNDS}"
    )
    print(f"throughput ratio portal / plain aiofiles: {plain_seconds / portal_seconds:.2f}")
    ok = large <= PEAK_BUDGET
    print(
        f"50 MB peak {large / 1024:.1f} KiB of the {PEAK_BUDGET // 1024} KiB budget: "
        f"{'ok' if ok else 'OVER BUDGET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
