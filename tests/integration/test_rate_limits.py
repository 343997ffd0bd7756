"""Rate limits that hold: atomic under concurrency, no double burst at a window's edge, and
few store round trips — in memory and on Redis (a redis-server of the test's own)."""

from __future__ import annotations

import asyncio
import time
import types
import uuid
from dataclasses import replace

import pytest
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import memory as memory_storage
from litestar.testing import AsyncTestClient

from tests.integration.letters_support import lookup_params, sign_in
from tests.support.redis_server import redis_server
from web.letters.lookup_limit import allow_lookup
from web.platform import rate_limits
from web.platform.rate_limits import RateLimits, build_storage

pytestmark = pytest.mark.usefixtures("seeded")


@pytest.fixture(scope="module")
def redis_url():
    with redis_server() as url:
        yield url


@pytest.fixture(params=["memory", "redis"])
def limits(request, settings) -> RateLimits:
    if request.param == "memory":
        return RateLimits(build_storage(replace(settings, redis_url="")))
    url = request.getfixturevalue("redis_url")
    prefix = f"test-{uuid.uuid4().hex}"  # a key space of this test's own
    return RateLimits(build_storage(replace(settings, redis_url=url), key_prefix=prefix))


async def test_200_concurrent_lookups_let_exactly_the_limit_through(limits: RateLimits):
    results = await asyncio.gather(
        *(allow_lookup(limits, person_id=1, address="198.51.100.1", limit=20) for _ in range(200))
    )
    assert sum(results) == 20
    # Another person from another address has a limit of their own.
    assert await allow_lookup(limits, person_id=2, address="198.51.100.2", limit=20)


async def test_concurrent_requests_for_the_general_limit_hold(limits: RateLimits):
    item = RateLimitItemPerMinute(50)
    results = await asyncio.gather(*(limits.hit(item, "general", "a") for _ in range(300)))
    assert sum(results) == 50


async def test_no_double_burst_at_a_window_edge_in_memory(settings, monkeypatch):
    now = {"t": 1_000_000 * 60 + 59.9}  # 0.1 s before a minute's edge
    clock = types.SimpleNamespace(time=lambda: now["t"], monotonic=time.monotonic)
    monkeypatch.setattr(memory_storage, "time", clock)  # the library's sliding counter
    monkeypatch.setattr(rate_limits, "time", clock)  # the app's moving window
    limits = RateLimits(build_storage(replace(settings, redis_url="")))

    async def burst(person_id: int, count: int) -> int:
        return sum(
            [
                await allow_lookup(limits, person_id=person_id, address="x", limit=20)
                for _ in range(count)
            ]
        )

    assert await burst(3, 20) == 20
    now["t"] += 0.2  # just past the edge: a fixed window would allow 20 more
    assert await burst(3, 20) == 0  # lookups: an exact moving window
    now["t"] += 59.85  # a minute after the first burst the limit is back
    assert await burst(3, 21) == 20
    # The general limit's sliding counter: at most one more right after an edge.
    item = RateLimitItemPerMinute(20)
    assert sum([await limits.hit(item, "general", "y") for _ in range(20)]) == 20
    now["t"] = (now["t"] // 60 + 1) * 60 + 0.1
    assert sum([await limits.hit(item, "general", "y") for _ in range(20)]) <= 1


async def test_no_double_burst_at_a_window_edge_on_redis(redis_url, settings):
    limits = RateLimits(
        build_storage(replace(settings, redis_url=redis_url), key_prefix=uuid.uuid4().hex)
    )
    item = RateLimitItemPerSecond(5)
    for exact in (True, False):
        first = [await limits.hit(item, "edge", str(exact), exact=exact) for _ in range(6)]
        assert first == [True] * 5 + [False]
    await asyncio.sleep(0.6)
    assert not await limits.hit(item, "edge", "True", exact=True)  # still within the second
    await asyncio.sleep(0.5)  # the sliding counter's window has rolled over
    assert sum([await limits.hit(item, "edge", "False") for _ in range(5)]) <= 1


async def test_a_lookup_costs_two_round_trips_to_redis(redis_url, make_app, monkeypatch):
    """Counted by the server itself (INFO commandstats): the session with its person's
    authority version (one MGET), then both counters and the due `seen` write-back in one
    script (the general limit skips lookups). Commands a script runs are counted under their
    own names, so `set` is the write-back inside the script and `exists` is never sent."""
    from redis.asyncio import Redis

    from models.letters import CustomsBody
    from web.identity import sessions

    redis = Redis.from_url(redis_url)
    async with AsyncTestClient(app=make_app(redis_url=redis_url)) as client:
        await sign_in(client, "vetendas")
        body = await CustomsBody.get(name="Bakı Baş Gömrük İdarəsi")
        params = lookup_params(body.id, "M-1/2026", "03.11.2026")
        assert (await client.get("/letters/track", params=params)).status_code == 200  # warm
        real_time = sessions.time.time
        lag = sessions.SEEN_RESOLUTION_SECONDS + 1
        for seen_due in (False, True):
            if seen_due:  # the session's clock then counts as older than its resolution
                monkeypatch.setattr(sessions.time, "time", lambda: real_time() + lag)
            await redis.config_resetstat()
            assert (await client.get("/letters/track", params=params)).status_code == 200
            stats = await redis.info("commandstats")
            calls = {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}
            calls.pop("config|resetstat", None)
            scripts = calls.get("evalsha", 0) + calls.get("eval", 0)
            assert (scripts, calls.get("mget")) == (1, 1), calls
            assert calls.get("set", 0) == (1 if seen_due else 0), calls
            assert not {"get", "exists", "script|load"} & set(calls), calls
    await redis.aclose()


async def test_lookups_over_the_limit_get_the_429_page(make_app):
    async with AsyncTestClient(app=make_app(letter_lookup_rate_limit_per_minute=5)) as client:
        await sign_in(client, "vetendas")
        from models.letters import CustomsBody

        body = await CustomsBody.get(name="Bakı Baş Gömrük İdarəsi")
        params = lookup_params(body.id, "M-1/2026", "03.11.2026")
        responses = await asyncio.gather(
            *(client.get("/letters/track", params=params) for _ in range(12))
        )
    assert sorted(response.status_code for response in responses) == [200] * 5 + [429] * 7
