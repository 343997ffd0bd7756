"""The memory rate-limit storage (one process, no Redis): its sweep of expired entries is
rate-limited, not started after every hit; the counts are the library's."""

from __future__ import annotations

import asyncio

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage

from web.platform.rate_limits import RateLimits, SweptMemoryStorage


def test_the_library_still_has_the_hook_the_storage_overrides():
    assert callable(getattr(MemoryStorage, "_MemoryStorage__schedule_expiry", None))


async def test_hits_start_one_sweep_a_second_and_limits_hold(monkeypatch):
    """CPU, counted: each sweep hops to a worker thread once per key; the library's storage
    started one after every hit (several per request)."""
    storage = SweptMemoryStorage()
    sweeps: list[int] = []
    sweep = storage._MemoryStorage__expire_events  # the library's, bound

    async def counted():
        sweeps.append(len(storage.events))
        await sweep()

    monkeypatch.setattr(storage, "_MemoryStorage__expire_events", counted)
    limits = RateLimits(storage)
    item = RateLimitItemPerMinute(5)
    allowed = []
    for n in range(14):
        allowed.append(await limits.hit(item, "k", f"{n % 2}", exact=True))
        await asyncio.sleep(0.01)  # requests apart: a started sweep finishes meanwhile
    assert allowed == [True] * 10 + [False] * 4  # 5 a minute for each of the two keys
    assert len(sweeps) == 1, sweeps  # (the test takes far less than SWEEP_SECONDS)


async def test_a_due_sweep_still_frees_expired_entries(monkeypatch):
    storage = SweptMemoryStorage()
    monkeypatch.setattr(SweptMemoryStorage, "SWEEP_SECONDS", 0.0)
    limits = RateLimits(storage)
    item = RateLimitItemPerMinute(5)
    assert await limits.hit(item, "k", "1", exact=True)
    for entries in storage.events.values():
        for entry in entries:
            entry.expiry = 0  # expired long ago
    assert await limits.hit(item, "k", "2", exact=True)  # starts a sweep
    await asyncio.sleep(0.05)
    assert item.key_for("k", "1") not in storage.events
