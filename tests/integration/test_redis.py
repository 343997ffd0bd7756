"""Sessions and rate limits in Redis (several workers). Skips without Redis, except in CI."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient

from tests.integration.test_sign_in import sign_in
from tests.support.database import in_ci
from web.app import create_app

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
pytestmark = pytest.mark.usefixtures("seeded")


@pytest.fixture
async def redis_settings(settings):
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:
        if in_ci():
            pytest.fail(f"CI needs Redis at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    await client.flushdb()
    yield replace(settings, redis_url=REDIS_URL), client
    await client.flushdb()
    await client.aclose()


async def test_sessions_live_in_redis_and_survive_another_worker(redis_settings):
    settings, redis = redis_settings
    async with AsyncTestClient(app=create_app(settings)) as worker_one:
        await sign_in(worker_one, "vetendas2")
        session_id = worker_one.cookies.get("session")
        assert session_id
    keys = [key.decode() for key in await redis.keys("*")]
    assert any(session_id in key for key in keys)
    # A second app instance (another worker) sees the same session.
    async with AsyncTestClient(app=create_app(settings)) as worker_two:
        worker_two.cookies.set("session", session_id)
        assert (await worker_two.get("/letters", follow_redirects=False)).status_code == 200
        await worker_two.post(
            "/logout", data={"_csrf_token": await _token(worker_two)}, follow_redirects=False
        )
    keys = [key.decode() for key in await redis.keys("*")]
    assert not any(session_id in key for key in keys)


async def test_rate_limit_is_shared_between_workers(redis_settings):
    settings, _ = redis_settings
    settings = replace(settings, rate_limit_per_minute=4)
    statuses = []
    for requests in (2, 3):  # two workers one after the other: the count carries over
        async with AsyncTestClient(app=create_app(settings)) as worker:
            statuses += [(await worker.get("/services")).status_code for _ in range(requests)]
    assert statuses == [200, 200, 200, 200, 429]


async def _token(client: AsyncTestClient) -> str:
    if not client.cookies.get("csrftoken"):
        await client.get("/")
    return client.cookies.get("csrftoken")


async def test_a_change_of_authority_reaches_a_session_on_another_worker(settings, monkeypatch):
    """Another worker changes a person's parties; their session here acts on it at its next
    request (the version lives in Redis beside the sessions), with no sign-in again. On a
    redis-server of the test's own (the shared one is flushed by other runs)."""
    from litestar.stores.redis import RedisStore
    from redis.asyncio import Redis

    from models.identity import MembershipSource, Person
    from tests.support.redis_server import redis_server
    from web.identity import accounts, authority

    with redis_server() as url:
        redis = Redis.from_url(url)
        async with AsyncTestClient(app=create_app(replace(settings, redis_url=url))) as worker:
            await sign_in(worker, "vetendas2")
            person = await Person.get(fin="7XYZW34")
            assert "Sınaq Redis MMC" not in (await worker.get("/party")).text
            # The other worker: this test's own connection to the same Redis, the only store
            # the change is announced to (the app's connections belong to the app's loop).
            monkeypatch.setattr(authority, "_stores", [])
            authority.register(
                RedisStore(redis, namespace="egomruk").with_namespace("sessions"),
                settings.secret_key,
            )
            company = await accounts.get_or_create_company_party("9000000077", "Sınaq Redis MMC")
            await accounts.grant_party(person, company, MembershipSource.ADMIN)
            assert "Sınaq Redis MMC" in (await worker.get("/party")).text
            await accounts.revoke_party(person, company)
            assert "Sınaq Redis MMC" not in (await worker.get("/party")).text
        await redis.aclose()
