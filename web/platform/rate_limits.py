"""Rate limits that hold under concurrency: the general limit, sign-in and letter lookups.

All three use the `limits` library's sliding-window counter: one atomic operation per hit
(a Lua script on Redis, a per-key lock in memory), two counters per key (this window and
the last, weighted by how much of the last still overlaps), so O(1) whatever the limit and
no burst of twice the limit at a window's edge: right after the edge the previous window
still counts almost in full. A refused request is not counted.

Storage: memory on one process; Redis when `REDIS_URL` is set, so several workers share
the counts. Every key is prefixed (`key_prefix`), and keyed by the client address from
`web.platform.middleware.client_address` (see `TRUSTED_PROXIES`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from litestar import Request
from litestar.enums import ScopeType
from litestar.exceptions import TooManyRequestsException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from redis.asyncio import BlockingConnectionPool

from web.platform.middleware import client_address
from web.settings import Settings

KEY_PREFIX = "egomruk-limits"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REDIS_CONNECTIONS = 50  # per worker
REDIS_WAIT_SECONDS = 5


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
    return MemoryStorage()


class RateLimits:
    """The app's limiter (one per app, on `app.state.rate_limits`)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.limiter = SlidingWindowCounterRateLimiter(storage)

    def __deepcopy__(self, memo: dict) -> RateLimits:
        return self  # Litestar copies routers and their middleware; the counts are shared

    async def hit(self, item: RateLimitItem, *key: str) -> bool:
        """Count one request against `item` for `key`; False when it is over the limit."""
        return await self.limiter.hit(item, *key)


class RateLimitMiddleware(ASGIMiddleware):
    """Refuses a client over `per_minute` requests with a 429 (the error page, which an htmx
    request swaps into <main>). `counts` picks the requests that count (default: all)."""

    scopes = (ScopeType.HTTP,)

    def __init__(
        self,
        limits: RateLimits,
        name: str,
        per_minute: int,
        *,
        exclude: tuple[str, ...] = (),
        counts: Callable[[Scope], bool] | None = None,
    ) -> None:
        self.limits = limits
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
            self.item, self.name, client_address(Request(scope))
        ):
            raise TooManyRequestsException()
        await next_app(scope, receive, send)


def unsafe_method(scope: Scope) -> bool:
    return scope.get("method") not in SAFE_METHODS
