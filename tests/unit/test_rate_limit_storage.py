"""The memory rate-limit storage (one process, no Redis): the moving window as a queue that
costs the same at any size, swept on the event loop; the counts are the library's."""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque

import pytest
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from web.platform.rate_limits import RateLimits, SweptMemoryStorage


class Clock:
    """`time.time` for both storages (the library's and ours read it through `time`)."""

    def __init__(self, monkeypatch) -> None:
        self.now = 1_000_000.0
        monkeypatch.setattr(time, "time", lambda: self.now)


def test_the_library_still_has_the_hooks_the_storage_overrides():
    for name in ("_MemoryStorage__schedule_expiry", "_MemoryStorage__expire_events"):
        assert callable(getattr(MemoryStorage, name, None)), name


async def test_the_counts_are_the_librarys(monkeypatch):
    """The same hits, at the same fake times, on the library's storage and on ours: every
    answer (allowed, window start, count in window, remaining) is the same."""
    clock = Clock(monkeypatch)
    theirs = MovingWindowRateLimiter(MemoryStorage())
    ours = MovingWindowRateLimiter(SweptMemoryStorage())
    items = [RateLimitItemPerMinute(3), RateLimitItemPerMinute(5)]
    chance = random.Random(12)
    for _ in range(600):
        clock.now += chance.choice([0.5, 2.0, 7.0, 30.0])
        item, key = chance.choice(items), chance.choice(["a", "b"])
        amount = chance.choice([1, 1, 1, 2])
        assert await ours.hit(item, key, cost=amount) == await theirs.hit(item, key, cost=amount)
        ours_stats = await ours.get_window_stats(item, key)
        theirs_stats = await theirs.get_window_stats(item, key)
        assert ours_stats == theirs_stats
        assert await ours.test(item, key) == await theirs.test(item, key)
    if theirs.storage.timer is not None:  # the library's sweep task: not left to other tests
        theirs.storage.timer.cancel()


async def test_a_hit_does_not_copy_the_window(monkeypatch):
    """The library inserted each hit at the front of a list (a copy of the whole window):
    with a high limit, tens of µs a hit. Here the window stays one deque, appended to."""
    clock = Clock(monkeypatch)
    storage = SweptMemoryStorage()
    limiter = MovingWindowRateLimiter(storage)
    item = RateLimitItemPerMinute(1_000_000)
    for _ in range(50_000):
        assert await limiter.hit(item, "k")
    window = storage.events[item.key_for("k")]
    assert isinstance(window, deque) and len(window) == 50_000
    clock.now += 61  # every hit so far expired: the next hit drops them from the left
    assert await limiter.hit(item, "k")
    assert storage.events[item.key_for("k")] is window and len(window) == 1


async def test_hits_sweep_once_a_second_without_a_thread(monkeypatch):
    clock = Clock(monkeypatch)

    async def no_threads(*args, **kwargs):
        raise AssertionError("a sweep went to a thread")

    monkeypatch.setattr(asyncio, "to_thread", no_threads)
    storage = SweptMemoryStorage()
    sweeps = []
    sweep = storage._sweep
    monkeypatch.setattr(storage, "_sweep", lambda: sweeps.append(1) or sweep())
    limits = RateLimits(storage)
    item = RateLimitItemPerMinute(5)
    allowed = [await limits.hit(item, "k", f"{n % 2}", exact=True) for n in range(14)]
    assert allowed == [True] * 10 + [False] * 4  # 5 a minute for each of the two keys
    assert len(sweeps) == 1, sweeps  # (the test takes far less than SWEEP_SECONDS)
    assert clock.now  # (the fake clock kept every hit in the same minute)


@pytest.mark.parametrize("exact", [True, False])
async def test_a_due_sweep_frees_expired_keys(monkeypatch, exact):
    """Moving windows (exact) and the library's sliding counters alike."""
    clock = Clock(monkeypatch)
    monkeypatch.setattr(SweptMemoryStorage, "SWEEP_SECONDS", 0.0)
    storage = SweptMemoryStorage()
    limits = RateLimits(storage)
    item = RateLimitItemPerMinute(5)
    first = item.key_for("k", "1")

    def kept() -> list[str]:
        return [key for key in [*storage.events, *storage.storage] if key.startswith(first)]

    assert await limits.hit(item, "k", "1", exact=exact)
    assert kept()
    clock.now += 3 * 60  # long expired
    assert await limits.hit(item, "k", "2", exact=exact)  # sweeps first
    assert not kept()


async def test_a_sweep_visits_a_bounded_number_of_keys_and_goes_on_from_there(monkeypatch):
    """Keys are per client address: one sweep on the event loop must not walk them all."""
    clock = Clock(monkeypatch)
    monkeypatch.setattr(SweptMemoryStorage, "SWEEP_KEYS", 3)
    storage = SweptMemoryStorage()
    limiter = MovingWindowRateLimiter(storage)
    item = RateLimitItemPerMinute(5)
    for n in range(7):
        assert await limiter.hit(item, f"address-{n}")
    clock.now += 61
    remaining = []
    for _ in range(3):
        storage._sweep()
        remaining.append(len(storage.events))
    assert remaining == [4, 1, 0]
