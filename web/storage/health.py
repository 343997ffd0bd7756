"""Is file storage usable right now? (readiness: writable, with room for uploads)."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid

# Below this much free space uploads would start failing: report not ready first.
MIN_FREE_BYTES = 256 * 1024 * 1024


async def storage_ready(storage, min_free_bytes: int | None = None) -> tuple[bool, str]:
    """(ready, reason): a probe file can be written and removed, and space is left."""
    min_free = MIN_FREE_BYTES if min_free_bytes is None else min_free_bytes

    def probe() -> tuple[bool, str]:
        path = storage.temp_dir / f"ready-{uuid.uuid4().hex}.probe"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, b"ok")
                os.fsync(fd)
            finally:
                os.close(fd)
            path.unlink()
        except OSError as exc:
            return False, f"not writable ({exc.strerror or type(exc).__name__})"
        free = shutil.disk_usage(storage.root).free
        if free < min_free:
            return False, f"low free space ({free // (1024 * 1024)} MiB left)"
        return True, "ok"

    return await asyncio.to_thread(probe)
