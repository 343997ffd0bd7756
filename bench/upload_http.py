"""“Yeni sənəd” with a 50 MB file against a real server: throughput against a plain aiofiles
write, and the server's resident memory (RSS) staying flat.

`python -m web serve` (uvicorn, one worker, SQLite, demo data, upload limits raised to allow
50 MB) pinned to CPU 0; this process, the browser's part, pinned to CPU 1. The demo trader
signs in, acknowledges the obligation and posts the real form (CSRF token, idempotency key)
with the file streamed as multipart in 64 KiB chunks, never held whole; the upload is timed
from the first byte sent to the answer (303: stored, rows committed).

Throughput: `ROUNDS` 50 MB uploads alternating with writing the same bytes into a file on
the same disk with plain aiofiles and an fsync (the floor any upload path pays); the medians'
ratio `plain seconds ÷ upload seconds` must be ≥ 0.8.

Memory: the server's resident set read by the kernel, not tracemalloc (which misses C and
Rust buffers and the allocator's own growth). Before each upload the peak (VmHWM) is reset to
the current RSS (/proc/PID/clear_refs); after it, peak − the RSS before is that upload's
growth. After a small warm-up, 5 MB and 50 MB uploads alternate; flat memory means the
largest growth of a 50 MB upload exceeds that of a 5 MB one by no more than `FLAT_BOUND_MIB`
(holding the body once would add 45, and the first large upload shows it even when the heap
keeps it afterwards).

CPU: the server's CPU-seconds (user + system, all its threads, /proc/PID/stat) per 50 MB
upload, printed beside the ratio: steadier than seconds on a loaded machine (issue 12:
0.105 s before writes were gathered into 1 MiB hashed writes, 0.080 s after).

Run: `python -m bench.upload_http` (Linux: /proc). `BENCH_QUICK=1`: small sizes, one round.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from bench.harness import (
    CORES,
    QUICK,
    Row,
    Server,
    report,
    reset_peak_rss,
    status_kib,
    web_env,
)
from bench.upload_memory import body, store_with_aiofiles
from tests.support.web import csrf_token, sign_in
from web.platform.idempotency import new_idempotency_key

MB = 1000 * 1000
SMALL, LARGE = (MB // 2, 5 * MB) if QUICK else (5 * MB, 50 * MB)
ROUNDS = 1 if QUICK else 5
MEMORY_ROUNDS = 1 if QUICK else 3
THROUGHPUT_GOAL = 0.8
FLAT_BOUND_MIB = 8


async def multipart(boundary: str, token: str, total: int) -> AsyncIterator[bytes]:
    fields = {
        "_csrf_token": token,
        "kind": "invoice",
        "number": f"BENCH-{secrets.token_hex(4)}",
        "issued_on-day": "03",
        "issued_on-month": "11",
        "issued_on-year": "2026",
        "idempotency_key": new_idempotency_key(),
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


async def upload(client: httpx.AsyncClient, total: int) -> float:
    """Post “Yeni sənəd” with a `total`-byte file; the seconds until the answer."""
    boundary = secrets.token_hex(16)
    token = await csrf_token(client)
    started = time.perf_counter()
    response = await client.post(
        "/documents/new",
        content=multipart(boundary, token, total),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 303, (response.status_code, response.text[:500])
    return elapsed


async def plain_write(directory: Path, total: int) -> float:
    started = time.perf_counter()
    await store_with_aiofiles(directory, total)
    return time.perf_counter() - started


async def run(server: Server, plain_dir: Path) -> tuple[dict[int, list[int]], list, list, list]:
    async with httpx.AsyncClient(base_url=server.url, timeout=300) as client:
        response = await sign_in(client, "vetendas2", party="")
        assert response.status_code == 303, response.status_code
        acknowledged = await client.post(
            "/documents/obligation", data={"_csrf_token": await csrf_token(client)}
        )
        assert acknowledged.status_code in (200, 303), acknowledged.status_code
        # Warm (imports, pools) with a small file only: a first large upload that grew the
        # heap for good must show below, not hide in the warm-up.
        await upload(client, SMALL)
        growth: dict[int, list[int]] = {SMALL: [], LARGE: []}
        for _ in range(MEMORY_ROUNDS):
            for size in (SMALL, LARGE):
                before = status_kib(server.pid, "VmRSS")
                reset_peak_rss(server.pid)
                await upload(client, size)
                growth[size].append(status_kib(server.pid, "VmHWM") - before)
        portal, plain, cpu = [], [], []
        for _ in range(ROUNDS):  # alternating: disk write-back hits both alike
            cpu_before = cpu_seconds(server.pid)
            portal.append(await upload(client, LARGE))
            cpu.append(cpu_seconds(server.pid) - cpu_before)
            plain.append(await plain_write(plain_dir, LARGE))
    return growth, portal, plain, cpu


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if CORES >= 2:
        os.sched_setaffinity(0, {1})  # the client off the server's CPU
    data_dir = Path(tempfile.mkdtemp(prefix="egomruk-bench-upload-"))
    limit = str(2 * LARGE)
    env = web_env(
        data_dir / "data",
        UPLOAD_MAX_FILE_BYTES=limit,
        UPLOAD_MAX_DOCUMENT_BYTES=limit,
        PARTY_QUOTA_BYTES=str(10**12),
    )
    (data_dir / "data").mkdir()
    plain_dir = data_dir / "plain"
    plain_dir.mkdir()
    try:
        with Server(env, "uvicorn", cpu=0) as server:
            growth, portal, plain, cpu = asyncio.run(run(server, plain_dir))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)

    # The largest growth of each size: a body held once shows even if the heap kept it.
    worst = {size: max(values) / 1024 for size, values in growth.items()}
    for size in (SMALL, LARGE):
        values = ", ".join(f"{kib / 1024:.1f}" for kib in growth[size])
        print(f"{size / MB:g} MB upload: server peak RSS growth {values} MiB (in turn)")
    portal_s, plain_s = statistics.median(portal), statistics.median(plain)
    print(
        f"{LARGE / MB:g} MB: upload {portal_s:.3f} s ({LARGE / MB / portal_s:.0f} MB/s, "
        f"spread {min(portal):.3f}–{max(portal):.3f}), plain aiofiles + fsync {plain_s:.3f} s "
        f"({LARGE / MB / plain_s:.0f} MB/s, spread {min(plain):.3f}–{max(plain):.3f}), "
        f"median of {ROUNDS}"
    )
    print(
        f"{LARGE / MB:g} MB upload: server CPU {statistics.median(cpu):.3f} s "
        f"(user + system, spread {min(cpu):.3f}–{max(cpu):.3f})"
    )
    return report(
        [
            Row(
                f"{LARGE / MB:g} MB upload throughput ÷ plain aiofiles write + fsync",
                plain_s / portal_s,
                THROUGHPUT_GOAL,
            ),
            Row(
                f"server peak RSS growth, {LARGE / MB:g} MB upload − {SMALL / MB:g} MB upload, MiB",
                worst[LARGE] - worst[SMALL],
                FLAT_BOUND_MIB,
                at_least=False,
                digits=1,
            ),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
