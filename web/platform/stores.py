"""The key-value stores behind sessions and rate limits, and their housekeeping.

Memory stores on one process; Redis when REDIS_URL is set (several workers). Redis expires
keys itself; a memory store only drops an expired key when that key is read again, so keys
nobody asks for again (a visitor who left, an address that stopped) would stay for ever:
`StoreFactory.purge_expired` drops them, and the app calls it on a timer (`housekeeping`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from litestar.stores.base import StorageObject, Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from web.settings import Settings

log = structlog.get_logger("egomruk.housekeeping")
HOUSEKEEPING_INTERVAL_SECONDS = 60


def redis_client(url: str) -> Redis:
    """The Redis client of the stores and of readiness. Fail fast while Redis is away
    (short timeouts, two quick retries) and heal by itself when it returns: a pooled
    connection that died is checked (PING after 10 s idle), dropped and replaced, and the
    command retried, so the first requests after Redis returns succeed."""
    return Redis.from_url(
        url,
        socket_connect_timeout=2,
        socket_timeout=2,
        health_check_interval=10,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), retries=2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )


class StoreFactory:
    """`StoreRegistry(default_factory=...)`: one store per name, remembered for purging."""

    def __init__(self, settings: Settings) -> None:
        self.redis: Redis | None = redis_client(settings.redis_url) if settings.redis_url else None
        self._redis: RedisStore | None = (
            RedisStore(self.redis, namespace="egomruk") if self.redis is not None else None
        )
        self.memory_stores: list[MemoryStore] = []

    def __call__(self, name: str) -> Store:
        if self._redis is not None:
            return self._redis.with_namespace(name)
        store = MemoryStore()
        self.memory_stores.append(store)
        return store

    async def purge_expired(self) -> None:
        for store in self.memory_stores:
            await store.delete_expired()

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


@dataclass(frozen=True, slots=True)
class KeyWrite:
    """A `set_if_present` to run later, possibly together with other operations (one round
    trip: see `RateLimits.hit_both`)."""

    store: Store
    key: str
    data: bytes
    expires_in: int

    async def apply(self) -> bool:
        return await set_if_present(self.store, self.key, self.data, self.expires_in)


async def get_many(store: Store, keys: list[str]) -> list[bytes | None]:
    """Several keys in one round trip (Redis MGET; one locked read of a memory store)."""
    if isinstance(store, RedisStore):
        return await store._redis.mget([store._make_key(key) for key in keys])
    if isinstance(store, MemoryStore):
        if store._lock.locked():  # see `_memory_value`
            async with store._lock:
                return [_memory_value(store, key) for key in keys]
        return [_memory_value(store, key) for key in keys]
    return [await store.get(key) for key in keys]


async def set_if_present(store: Store, key: str, value: bytes, expires_in: int) -> bool:
    """Replace a key only while it exists, atomically (Redis SET … XX; under the memory
    store's lock): a key deleted meanwhile (a sign-out) is never brought back. False then."""
    if isinstance(store, RedisStore):
        return bool(await store._redis.set(store._make_key(key), value, ex=expires_in, xx=True))
    if isinstance(store, MemoryStore):
        if store._lock.locked():  # see `_memory_value`
            async with store._lock:
                return _memory_replace(store, key, value, expires_in)
        return _memory_replace(store, key, value, expires_in)
    if not await store.exists(key):
        return False
    await store.set(key, value, expires_in=expires_in)
    return True


def _memory_value(store: MemoryStore, key: str) -> bytes | None:
    """A memory store's value, read as `MemoryStore.get` reads it, for callers that hold its
    lock or found it free.

    Found free, the lock is not taken: this code never awaits, so nobody can take it before
    this is done, and the read is as atomic as under the lock. Taking it cost an event-loop
    turn (anyio yields after acquiring) on every signed-in request (issue 12). A held lock
    is waited for: `delete_expired` awaits while holding it, iterating the dict that a
    write here would change under it."""
    stored = store._store.get(key)
    if stored is None:
        return None
    if stored.expired:
        store._store.pop(key)
        return None
    return stored.data


def _memory_replace(store: MemoryStore, key: str, value: bytes, expires_in: int) -> bool:
    if _memory_value(store, key) is None:
        return False
    store._store[key] = StorageObject.new(data=value, expires_in=expires_in)
    return True


async def housekeeping(
    chores: list[Callable[[], Awaitable[object]]], interval: float, stop: asyncio.Event
) -> None:
    """Run each chore every `interval` seconds until `stop` is set; a failing chore is logged
    and tried again next time (it must never take the worker down)."""
    # The first round waits an interval too: nothing has expired at start-up.
    while not await _stopped_within(stop, interval):
        for chore in chores:
            try:
                await chore()
            except Exception:
                log.exception("housekeeping_failed", chore=getattr(chore, "__qualname__", chore))


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()
