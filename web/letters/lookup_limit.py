"""How many letter lookups one person, and one client address, may make a minute.

Counted in fixed one-minute windows in a Litestar store (memory on one process, Redis
with `REDIS_URL`, so several workers share the counts). Both counters must be under the
limit; each refused attempt still counts, so hammering does not reopen the window early.
Like Litestar's own rate limit, get-then-set is not atomic: under a burst a few requests
more than the limit may pass, which is acceptable for a brake on guessing.
"""

from __future__ import annotations

import time

from litestar.stores.base import Store

WINDOW_SECONDS = 60


async def _hit(store: Store, key: str) -> int:
    raw = await store.get(key)
    count = int(raw or 0) + 1
    await store.set(key, str(count), expires_in=WINDOW_SECONDS + 1)
    return count


async def allow_lookup(
    store: Store, *, person_id: int, address: str, limit: int, now: float | None = None
) -> bool:
    window = int((now if now is not None else time.time()) // WINDOW_SECONDS)
    person_count = await _hit(store, f"person:{person_id}:{window}")
    address_count = await _hit(store, f"ip:{address}:{window}")
    return person_count <= limit and address_count <= limit
