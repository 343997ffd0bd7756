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
from collections.abc import Callable

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from litestar import Request
from litestar.enums import ScopeType
from litestar.exceptions import TooManyRequestsException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from redis.asyncio import BlockingConnectionPool

from web.platform.middleware import client_address, limit_key
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
        self.sliding = SlidingWindowCounterRateLimiter(storage)
        self.exact = MovingWindowRateLimiter(storage)

    def __deepcopy__(self, memo: dict) -> RateLimits:
        return self  # Litestar copies routers and their middleware; the counts are shared

    async def hit(self, item: RateLimitItem, *key: str, exact: bool = False) -> bool:
        """Count one request against `item` for `key`; False when it is over the limit."""
        return await (self.exact if exact else self.sliding).hit(item, *key)


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
