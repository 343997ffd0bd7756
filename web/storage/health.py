"""Readiness of the file storage, for `/healthz/ready` (the ops side calls `storage_ready`).

Ready means: a small file can be written and fsynced in the storage's temp folder, and the
free space is at least `STORAGE_MIN_FREE_BYTES` (the storage's `min_free_bytes`). A full disk
makes uploads answer "could not be saved now, try later"; this is where operators see it.
"""

from __future__ import annotations

import asyncio

from web.storage.local_disk import is_full_disk
from web.storage.protocol import StorageBackend

PROBE_TIMEOUT_SECONDS = 5.0


async def storage_ready(storage: StorageBackend) -> tuple[bool, str]:
    """(ready, a short reason in English for operators). Never raises."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            await storage.probe()
            free = await storage.free_bytes()
    except TimeoutError:
        return False, f"storage did not answer within {PROBE_TIMEOUT_SECONDS:g} s"
    except OSError as error:
        if is_full_disk(error):
            return False, "storage is full (no space left to write)"
        return False, f"storage is not writable: {error.strerror or error}"
    minimum = getattr(storage, "min_free_bytes", 0)
    if free < minimum:
        return False, (
            f"storage has {_megabytes(free)} free, below the minimum of {_megabytes(minimum)}"
        )
    return True, f"storage writable, {_megabytes(free)} free"


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.0f} MB"
