"""Health that tells the truth: liveness, readiness, and which failures are outages.

Liveness says the process answers (nothing else is asked). Readiness asks every
dependency the pages need: the database (`SELECT 1`), Redis when `REDIS_URL` is set, and
file storage (writable, with free space). The storage check writes a probe, so it runs at
most once every `STORAGE_CHECK_SECONDS` whoever asks how often. An exception raised because
one of those is away is an *outage*: the user gets a 503 page with `Retry-After`, not a 500.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any
from weakref import WeakKeyDictionary

import asyncpg.exceptions
import structlog
from redis import exceptions as redis_errors
from tortoise.exceptions import DBConnectionError

from web.platform import db
from web.storage.health import storage_ready

log = structlog.get_logger("egomruk.health")

RETRY_AFTER_SECONDS = 30
CHECK_TIMEOUT_SECONDS = 3.0
# The storage check writes a file (or an object), and anyone may ask /healthz: it runs at
# most once in this many seconds per storage, callers in between share its answer.
STORAGE_CHECK_SECONDS = 2.0
OK = "ok"
UNAVAILABLE = "unavailable"

REDIS_OUTAGES = (redis_errors.ConnectionError, redis_errors.TimeoutError)
DATABASE_OUTAGES = (
    DBConnectionError,
    asyncpg.exceptions.PostgresConnectionError,  # class 08: connection lost or refused
    asyncpg.exceptions.OperatorInterventionError,  # 57: shutting down, starting up
    asyncpg.exceptions.InsufficientResourcesError,  # 53: too many connections, disk full (53100)
    asyncpg.exceptions.InterfaceError,  # "connection is closed" under a running query
    # Raised by the socket itself (connect refused, reset, timed out) on the way to the
    # database; Redis wraps its own in redis_errors.ConnectionError, checked first.
    ConnectionError,
    TimeoutError,
)


def outage_of(exc: BaseException | None) -> str | None:
    """'redis' or 'database' when `exc` (or what caused it) means that dependency is away."""
    if db.is_disk_full(exc):  # SQLite says it as an OperationalError, not an outage class
        return "database"
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, REDIS_OUTAGES):
            return "redis"
        if isinstance(exc, DATABASE_OUTAGES):
            return "database"
        exc = exc.__cause__ or exc.__context__
    return None


async def _check(name: str, probe: Callable[[], Awaitable[Any]]) -> tuple[str, str]:
    """Run one probe with a time limit; ('ok' | a short reason), never an exception."""
    try:
        result = await asyncio.wait_for(probe(), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return name, f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"
    except Exception as exc:  # the reason is for operators: in the log, not the answer
        log.warning("readiness_check_failed", check=name, error=repr(exc))
        return name, UNAVAILABLE
    if isinstance(result, tuple):  # storage_ready's (ready, reason)
        ready, reason = result
        if not ready:
            # Anyone may ask: the reason (bucket, endpoint, free bytes) goes to the log only.
            log.warning("readiness_check_failed", check=name, error=reason)
            return name, UNAVAILABLE
    return name, OK


_storage_checks: WeakKeyDictionary[Any, tuple[float, asyncio.Future]] = WeakKeyDictionary()


async def storage_check(storage: Any) -> tuple[bool, str]:
    """`storage_ready`, at most one probe in flight and one per `STORAGE_CHECK_SECONDS`
    (counted from its start). The database and Redis pings write nothing and stay live."""
    now = time.monotonic()
    last = _storage_checks.get(storage)
    if last is not None:
        started, probe = last
        fresh = not probe.done() or now - started < STORAGE_CHECK_SECONDS
        if fresh and probe.get_loop() is asyncio.get_running_loop():
            return await asyncio.shield(probe)
    probe = asyncio.ensure_future(storage_ready(storage))
    _storage_checks[storage] = (now, probe)
    return await asyncio.shield(probe)  # a caller that gives up does not cancel the others'


async def readiness(*, redis: Any, storage: Any) -> tuple[bool, dict[str, str]]:
    """Ask every dependency at once (the database, and Redis and the storage when the app
    has them); (all ready, {check: 'ok' or why not})."""
    probes: dict[str, Callable[[], Awaitable[Any]]] = {"database": db.ping}
    if redis is not None:
        probes["redis"] = redis.ping
    if storage is not None:
        probes["storage"] = lambda: storage_check(storage)
    checks = dict(await asyncio.gather(*(_check(n, p) for n, p in probes.items())))
    return all(value == OK for value in checks.values()), checks
