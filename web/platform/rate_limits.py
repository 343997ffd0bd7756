"""Rate limits that hold under concurrency: the general limit, sign-in and letter lookups.

Both strategies come from the `limits` library; each hit is one atomic operation (a Lua
script on Redis, a step under a per-key lock in memory), and a refused request is not
counted. Neither lets twice the limit through at a minute's edge:

* **exact** — a moving window (the time of each of the last `limit` hits): never more than
  the limit in any 60 seconds. O(limit) per hit, so for the small limits: sign-in (20) and
  letter lookups (20), where one extra guess matters.
* **sliding** — a sliding-window counter (this minute's count plus the last minute's,
  weighted by how much of it still overlaps): O(1) whatever the limit, for the general limit
  (600). Its rounding may let one request more through right after an edge.

Storage: memory on one process; Redis when `REDIS_URL` is set, so several workers share
the counts. Every key is prefixed (`key_prefix`), and keyed by the client address from
`web.platform.middleware.client_address` (see `TRUSTED_PROXIES`).
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from litestar import Request
from litestar.enums import ScopeType
from litestar.exceptions import TooManyRequestsException
from litestar.middleware import ASGIMiddleware
from litestar.stores.redis import RedisStore
from litestar.types import ASGIApp, Receive, Scope, Send
from redis.asyncio import BlockingConnectionPool
from redis.commands.core import AsyncScript

from web.platform.middleware import client_address, limit_key
from web.platform.stores import KeyWrite
from web.settings import Settings

KEY_PREFIX = "egomruk-limits"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REDIS_CONNECTIONS = 50  # per worker
REDIS_WAIT_SECONDS = 5


class SweptMemoryStorage(MemoryStorage):
    """The library's memory storage, with its moving window kept as a queue and swept on the
    event loop at most once a second.

    The library keeps a key's window as a list, newest first: each hit inserts at its front
    (a copy of the whole window), and each sweep holds the key's lock across a hop to a
    worker thread, so every hit meanwhile queues on that lock. Its cost grew with the window
    — small for the app's limits (20 a minute), but a limit of thousands a minute cost tens of
    µs a hit and stalled hits during sweeps. Here a window is a deque of the hits' expiry
    times, oldest first: a hit drops the expired ones from the left and appends on the right,
    so it costs the same at any size, with nothing awaited (no lock needed on one event loop).
    The counts are the library's: a hit is refused when `limit` hits are still in the window,
    and a refused hit is not counted. The sliding and fixed windows are the library's own.
    Overrides the library's private hooks by their mangled names
    (tests/unit/test_rate_limit_storage.py fails if a new version renames them)."""

    SWEEP_SECONDS = 1.0
    SWEEP_KEYS = 5_000
    _swept_at = float("-inf")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._to_sweep: deque[str] = deque()  # keys the current round has yet to visit

    def _live(self, key: str, now: float) -> deque[float] | None:
        window = self.events.get(key)
        if window is not None:
            while window and window[0] <= now:
                window.popleft()
        return window

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        await self._MemoryStorage__schedule_expiry()
        now = time.time()
        window = self._live(key, now)
        if window is None:
            window = self.events[key] = deque()
        if len(window) + amount > limit:
            return False
        window.extend([now + expiry] * amount)
        return True

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        if window := self._live(key, now):
            return window[0] - expiry, len(window)  # when the oldest hit in it was counted
        return now, 0

    async def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now - self._swept_at >= self.SWEEP_SECONDS:
            self._swept_at = now
            self._sweep()

    async def _MemoryStorage__expire_events(self) -> None:
        self._sweep()

    def _sweep(self) -> None:
        """Forget what has expired — windows, then the library's fixed/sliding counters —
        at most `SWEEP_KEYS` keys a time, taking up where the last sweep stopped: keys are
        per client address, so whoever changes address often must not make one sweep (on
        the event loop) long; 5,000 keys take ~2 ms."""
        if not self._to_sweep:
            self._to_sweep = deque([*self.events, *self.expirations])
        now = time.time()
        for _ in range(min(self.SWEEP_KEYS, len(self._to_sweep))):
            key = self._to_sweep.popleft()
            if key in self.events:
                if not self._live(key, now):
                    del self.events[key]
            elif self.expirations.get(key, now) <= now:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                self.locks.pop(key, None)


def build_storage(settings: Settings, key_prefix: str = KEY_PREFIX) -> Storage:
    if settings.redis_url:
        # redis-py, which the app already uses, rather than the library's default coredis;
        # a burst waits for a free connection instead of failing with "Too many connections".
        pool = BlockingConnectionPool.from_url(
            settings.redis_url, max_connections=REDIS_CONNECTIONS, timeout=REDIS_WAIT_SECONDS
        )
        return RedisStorage(
            f"async+{settings.redis_url}",
            implementation="redispy",
            key_prefix=key_prefix,
            connection_pool=pool,
        )
    return SweptMemoryStorage()


# `hit_both` on Redis: the library's moving window (acquire_moving_window.lua, amount 1)
# for two keys, and SET … XX of a third when given.
_HIT_BOTH = """
local function acquire(key, timestamp, limit, expiry)
    local entry = redis.call('lindex', key, limit - 1)
    if entry and tonumber(entry) >= tonumber(timestamp) - expiry then
        return false
    end
    redis.call('lpush', key, timestamp)
    redis.call('ltrim', key, 0, limit - 1)
    redis.call('expire', key, expiry)
    return true
end
local written = 0
if KEYS[3] and redis.call('set', KEYS[3], ARGV[4], 'EX', ARGV[5], 'XX') then
    written = 1
end
local limit, expiry = tonumber(ARGV[2]), tonumber(ARGV[3])
local allowed = 0
if acquire(KEYS[1], ARGV[1], limit, expiry) and acquire(KEYS[2], ARGV[1], limit, expiry) then
    allowed = 1
end
return {allowed, written}
"""


class RateLimits:
    """The app's limiter (one per app, on `app.state.rate_limits`)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.sliding = SlidingWindowCounterRateLimiter(storage)
        self.exact = MovingWindowRateLimiter(storage)
        self._hit_both: AsyncScript | None = None

    def __deepcopy__(self, memo: dict) -> RateLimits:
        return self  # Litestar copies routers and their middleware; the counts are shared

    async def hit(self, item: RateLimitItem, *key: str, exact: bool = False) -> bool:
        """Count one request against `item` for `key`; False when it is over the limit."""
        return await (self.exact if exact else self.sliding).hit(item, *key)

    async def hit_both(
        self,
        item: RateLimitItem,
        first: tuple[str, ...],
        second: tuple[str, ...],
        *,
        write: KeyWrite | None = None,
    ) -> tuple[bool, bool | None]:
        """Two exact (moving-window) counts in one round trip, and a pending write of a
        key-value store on the same server with them: (allowed, written; None: no write).

        `second` is counted only when `first` allows (a refused request is not counted).
        On Redis: one script, atomic, same keys and data as the library's moving window.
        `write` is `stores.set_if_present` (never recreates a key deleted meanwhile)."""
        if isinstance(self.storage, RedisStorage) and (
            write is None or isinstance(write.store, RedisStore)
        ):
            keys = [self.storage.bridge.prefixed_key(item.key_for(*key)) for key in (first, second)]
            args: list[object] = [repr(time.time()), item.amount, item.get_expiry()]
            if write is not None:
                keys.append(write.store._make_key(write.key))
                args += [write.data, write.expires_in]
            if self._hit_both is None:
                self._hit_both = self.storage.bridge.get_connection().register_script(_HIT_BOTH)
            allowed, written = await self._hit_both(keys=keys, args=args)
            return bool(allowed), (bool(written) if write is not None else None)
        allowed = await self.exact.hit(item, *first) and await self.exact.hit(item, *second)
        written = await write.apply() if write is not None else None
        return allowed, written


class RateLimitMiddleware(ASGIMiddleware):
    """Refuses a client over `per_minute` requests with a 429 (the error page, which an htmx
    request swaps into <main>). `counts` picks the requests that count (default: all);
    `exact` picks the moving window (see the module's docstring)."""

    scopes = (ScopeType.HTTP,)

    def __init__(
        self,
        limits: RateLimits,
        name: str,
        per_minute: int,
        *,
        exclude: tuple[str, ...] = (),
        counts: Callable[[Scope], bool] | None = None,
        exact: bool = False,
    ) -> None:
        self.limits = limits
        self.exact = exact
        self.name = name
        self.item = RateLimitItemPerMinute(per_minute)
        # By request path (a static file's path is not its route handler's path).
        excluded = re.compile("|".join(exclude)) if exclude else None
        self.should_bypass_for_scope = (
            (lambda scope: excluded.match(scope["path"]) is not None) if excluded else None
        )
        self.counts = counts

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        counted = self.counts is None or self.counts(scope)
        if counted and not await self.limits.hit(
            self.item, self.name, limit_key(client_address(Request(scope))), exact=self.exact
        ):
            raise TooManyRequestsException()
        await next_app(scope, receive, send)


def unsafe_method(scope: Scope) -> bool:
    return scope.get("method") not in SAFE_METHODS
