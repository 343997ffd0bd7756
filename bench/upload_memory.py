"""Upload memory and speed: `LocalDiskStorage.stage` against plain aiofiles writes.

A body is generated chunk by chunk (64 KiB, each chunk a fresh bytes object as a request
stream would give; never held whole) and streamed through `stage` with limits raised to allow
it. Memory: `tracemalloc` peak of traced bytes above the level just before the upload, for 5 MB
and 50 MB bodies; flat memory means the 50/5 ratio is ≈1. Speed: best of five 50 MB runs each
way, alternating, tracemalloc off, both writing the same bytes and fsyncing; reported as the
ratio of throughputs `storage / plain aiofiles` (1.0 = no overhead). The storage also computes
SHA-256 (on the event loop; ~0.6 ms per MB here), which is most of the difference.
Fails (exit 1) if the 50 MB peak exceeds 2 MB.

Run: `python -m bench.upload_memory` (uses a temporary directory).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import aiofiles

from web.storage.local_disk import LocalDiskStorage

MB = 1000 * 1000
CHUNK = 64 * 1024
SIZES = (5 * MB, 50 * MB)
PEAK_BUDGET = 2 * 1024 * 1024  # bytes, for the 50 MB upload
TIMING_ROUNDS = 5


async def body(total: int, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
    """`total` bytes starting like a PDF, produced one chunk at a time."""
    pattern = bytearray(os.urandom(chunk_size))
    pattern[:9] = b"%PDF-1.7\n"
    sent = 0
    while sent < total:
        size = min(chunk_size, total - sent)
        yield bytes(pattern[:size])  # a new object per chunk, like a network read
        sent += size


async def store_with_storage(storage: LocalDiskStorage, total: int) -> None:
    staged = await storage.stage(body(total), filename="bench.pdf", max_bytes=total)
    assert staged.size == total
    await storage.discard(staged)


async def store_with_aiofiles(directory: Path, total: int) -> None:
    path = directory / "plain.bin"
    async with aiofiles.open(path, "wb") as out:
        async for chunk in body(total):
            await out.write(chunk)
        await out.flush()
        await asyncio.to_thread(os.fsync, out.fileno())
    path.unlink()


async def peak_memory(storage: LocalDiskStorage, total: int) -> int:
    """Peak traced bytes above the starting level while staging `total` bytes."""
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    await store_with_storage(storage, total)
    return tracemalloc.get_traced_memory()[1] - baseline


async def timed(run: Awaitable[None]) -> float:
    started = time.perf_counter()
    await run
    return time.perf_counter() - started


async def run(directory: Path) -> tuple[dict[int, int], float, float]:
    storage = LocalDiskStorage(directory / "uploads")
    plain_dir = directory / "plain"
    plain_dir.mkdir()
    await store_with_storage(storage, 1 * MB)  # warm up the thread pool and imports

    tracemalloc.start()
    try:
        peaks = {total: await peak_memory(storage, total) for total in SIZES}
    finally:
        tracemalloc.stop()

    # Rounds alternate so disk write-back and cache state hit both sides alike.
    total = SIZES[-1]
    storage_times, plain_times = [], []
    for _ in range(TIMING_ROUNDS):
        storage_times.append(await timed(store_with_storage(storage, total)))
        plain_times.append(await timed(store_with_aiofiles(plain_dir, total)))
    return peaks, min(storage_times), min(plain_times)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="egomruk-bench-upload-") as tmp:
        peaks, storage_seconds, plain_seconds = asyncio.run(run(Path(tmp)))
    small, large = (peaks[size] for size in SIZES)
    total = SIZES[-1]
    print(f"{'upload':>8} {'peak memory (tracemalloc)':>26}")
    for size in SIZES:
        print(f"{size // MB:>5} MB {peaks[size] / 1024:>23.1f} KiB")
    print(f"peak ratio 50 MB / 5 MB: {large / small:.2f} (flat memory ≈ 1)")
    storage_rate = total / MB / storage_seconds
    plain_rate = total / MB / plain_seconds
    print(
        f"50 MB: storage {storage_seconds:.3f} s ({storage_rate:.0f} MB/s), "
        f"plain aiofiles {plain_seconds:.3f} s ({plain_rate:.0f} MB/s), best of {TIMING_ROUNDS}"
    )
    print(f"throughput ratio storage / plain aiofiles: {storage_rate / plain_rate:.2f}")
    ok = large <= PEAK_BUDGET
    print(
        f"50 MB peak {large / 1024:.1f} KiB of the {PEAK_BUDGET // 1024} KiB budget: "
        f"{'ok' if ok else 'OVER BUDGET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
