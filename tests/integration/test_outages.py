"""Redis and PostgreSQL going away and coming back (issue 10, point 3).

Each test runs its own Redis server and its own TCP proxy in front of a throw-away
PostgreSQL database, and takes those away: the machine's shared services are never touched.
While a dependency is away, pages answer a localized 503 with Retry-After and readiness
names the dependency; right after it returns, the very first requests succeed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient

from tests.support.database import provision_postgres_database
from tests.support.faults import TcpProxy
from tests.support.web import sign_in
from web.app import create_app

pytestmark = pytest.mark.usefixtures("seeded")

FAST_ANSWER_SECONDS = 2.0
OUTAGE_REQUESTS = 10
UNAVAILABLE = {
    "en": "Sorry, the service is unavailable",
    "ru": "Извините, услуга недоступна",
}


@pytest.fixture(scope="module")
def postgres_with_demo_data():
    """A fresh PostgreSQL database, migrated and seeded by the CLI (reached directly)."""
    database = provision_postgres_database()
    env = {**os.environ, "DATABASE_URL": database.url}
    for command in ("migrate", "seed"):
        subprocess.run([sys.executable, "-m", "web", command], env=env, check=True, timeout=60)
    yield database
    database.drop()


@pytest.fixture
def postgres_proxy(postgres_with_demo_data):
    server = postgres_with_demo_data.url.split("@", 1)[1].split("/", 1)[0]
    host, _, port = server.partition(":")
    proxy = TcpProxy(host, int(port or 5432))
    proxy.start()
    proxied = postgres_with_demo_data.url.replace(server, f"127.0.0.1:{proxy.port}")
    yield proxy, proxied
    proxy.close()


async def _get_timed(client: AsyncTestClient, path: str):
    """GET `path`; an outage must be answered at once, not after a pile of retries."""
    started = time.monotonic()
    response = await client.get(path)
    assert time.monotonic() - started < FAST_ANSWER_SECONDS, path
    return response


def _assert_friendly_503(response, language: str) -> None:
    assert response.status_code == 503, response.text[:500]
    assert int(response.headers["retry-after"]) > 0
    assert "text/html" in response.headers["content-type"]
    assert UNAVAILABLE[language] in response.text
    assert "Traceback" not in response.text


@asynccontextmanager
async def _signed_in(settings, **changes) -> AsyncIterator[AsyncTestClient]:
    """A client of an app with `changes`, signed in as vetendas2, in English."""
    async with AsyncTestClient(app=create_app(replace(settings, **changes))) as client:
        client.cookies.set("lang", "en")
        assert (await sign_in(client, "vetendas2")).status_code == 303
        assert (await client.get("/letters/")).status_code == 200
        yield client


async def _all_unavailable(client: AsyncTestClient, path: str, language: str) -> None:
    """OUTAGE_REQUESTS requests in a row: every one a fast, friendly 503."""
    for _ in range(OUTAGE_REQUESTS):
        _assert_friendly_503(await _get_timed(client, path), language)


async def test_redis_outage_answers_503_and_recovers_at_once(settings, redis_server):
    async with _signed_in(settings, redis_url=redis_server.url) as client:
        assert (await client.get("/healthz/ready")).json()["checks"]["redis"] == "ok"

        redis_server.stop()
        await _all_unavailable(client, "/letters/", "en")
        _assert_friendly_503(await _get_timed(client, "/"), "en")
        client.cookies.set("lang", "ru")
        _assert_friendly_503(await _get_timed(client, "/services"), "ru")
        ready = await _get_timed(client, "/healthz/ready")
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"
        assert ready.json()["checks"]["redis"] != "ok"
        assert ready.json()["checks"]["database"] == "ok"
        live = await client.get("/healthz/live")
        assert live.status_code == 200

        redis_server.start()  # an empty Redis: sessions are gone, the portal works
        client.cookies.set("lang", "en")
        statuses = [(await client.get(path)).status_code for path in ("/", "/services", "/")]
        assert statuses == [200, 200, 200]
        assert (await client.get("/healthz/ready")).status_code == 200
        assert (await sign_in(client, "vetendas2")).status_code == 303
        assert (await client.get("/letters/")).status_code == 200


async def test_database_outage_answers_503_and_recovers_at_once(settings, postgres_proxy):
    proxy, url = postgres_proxy
    async with _signed_in(settings, database_url=url) as client:
        proxy.stop()  # cuts the pooled connections too
        await _all_unavailable(client, "/letters/", "en")
        client.cookies.set("lang", "ru")
        _assert_friendly_503(await _get_timed(client, "/letters/"), "ru")
        ready = await _get_timed(client, "/healthz/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] != "ok"
        assert (await client.get("/healthz/live")).status_code == 200
        assert (await client.get("/healthz")).status_code == 503

        proxy.start()
        client.cookies.set("lang", "en")
        statuses = [(await client.get("/letters/")).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        assert (await client.get("/healthz/ready")).status_code == 200
        assert (await client.get("/healthz")).status_code == 200


async def test_a_silent_database_is_a_503_in_seconds_not_a_hang(settings, postgres_proxy):
    from web.platform.db import CONNECT_TIMEOUT_SECONDS

    proxy, url = postgres_proxy
    async with _signed_in(settings, database_url=url) as client:
        proxy.stop()
        proxy.start(silent=True)  # connections are accepted, then nothing: no refusal
        started = time.monotonic()
        _assert_friendly_503(await client.get("/letters/"), "en")
        assert time.monotonic() - started < CONNECT_TIMEOUT_SECONDS + FAST_ANSWER_SECONDS


async def test_redis_lost_while_the_session_is_written_back_is_a_503(
    settings, redis_server, monkeypatch
):
    """Redis answers the session's read, then fails its write-back at the end of the request
    (held with the response's start): a friendly 503, not a response cut off after it began."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from web.identity import sessions
    from web.platform import stores

    async def gone(*args, **kwargs):
        raise RedisConnectionError("Redis went away mid-request")

    async with _signed_in(settings, redis_url=redis_server.url) as client:
        later = time.time() + 2 * sessions.SEEN_RESOLUTION_SECONDS  # `seen` is due a write
        monkeypatch.setattr(sessions.time, "time", lambda: later)
        monkeypatch.setattr(stores, "set_if_present", gone)
        _assert_friendly_503(await _get_timed(client, "/letters/"), "en")
        _assert_friendly_503(await _get_timed(client, "/"), "en")
        monkeypatch.undo()
        assert (await client.get("/letters/")).status_code == 200
