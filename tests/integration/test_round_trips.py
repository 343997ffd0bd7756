"""Round trips per request as tests (issue 12): SQL statements and key-value store round trips
are counted, not timed, so the budgets hold on any machine. SQL is counted where it leaves:
the Tortoise SQLite client's statements and the portal client's reads answered on the event
loop's own connection (`web/platform/sqlite.py`), asyncpg's query methods (pool `RESET ALL`
included).
Store round trips: on Redis every command or pipeline the clients send; in memory every call
into the store layer (see `counted_trips`). Budgets: identity SQL per signed-in page 0; store
round trips per lookup 2, a `seen` write-back included."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from contextlib import asynccontextmanager
from contextvars import ContextVar

import asyncpg
import pytest
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.testing import AsyncTestClient
from litestar.utils.sync import AsyncCallable
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline as RedisPipeline
from redis.asyncio.client import Redis as RedisClient
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper
from tortoise.connection import connections
from tortoise.queryset import ValuesQuery

from models.letters import CustomsBody
from tests.integration.letters_support import lookup_params, sign_in
from tests.support.redis_server import redis_server
from web.identity import sessions
from web.platform import sqlite, stores
from web.platform.rate_limits import RateLimits

pytestmark = pytest.mark.usefixtures("seeded")

HTMX = {"hx-request": "true"}


@asynccontextmanager
async def counted_sql(monkeypatch):
    """Yields a list that collects every SQL statement the app sends while inside."""
    statements: list[str] = []
    lock = threading.Lock()

    def note(sql: str) -> None:
        with lock:
            statements.append(sql)

    client = connections.get("default")
    if client.capabilities.dialect == "sqlite":
        for cls in (SqliteClient, SqliteTransactionWrapper):
            for name in ("execute_insert", "execute_many", "execute_query", "execute_query_dict"):
                if name in vars(cls):
                    original = vars(cls)[name]

                    async def counted(self, query, *args, _original=original, **kwargs):
                        note(query)
                        return await _original(self, query, *args, **kwargs)

                    monkeypatch.setattr(cls, name, counted)
        inline = vars(sqlite.SqliteClient)["_inline"]

        def counted_inline(self, query, values):
            rows = inline(self, query, values)
            if rows is not None:  # None: it runs on a reader, counted there
                note(query)
            return rows

        monkeypatch.setattr(sqlite.SqliteClient, "_inline", counted_inline)
        yield statements
        return
    original_execute = asyncpg.Connection.execute
    original_internal = asyncpg.Connection._execute
    original_many = asyncpg.Connection._executemany

    async def execute(self, query, *args, **kwargs):
        if not args:  # with args it goes through _execute, counted there
            note(query)
        return await original_execute(self, query, *args, **kwargs)

    async def internal(self, query, *args, **kwargs):
        note(query)
        return await original_internal(self, query, *args, **kwargs)

    async def many(self, query, *args, **kwargs):
        note(query)
        return await original_many(self, query, *args, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "execute", execute)
    monkeypatch.setattr(asyncpg.Connection, "_execute", internal)
    monkeypatch.setattr(asyncpg.Connection, "_executemany", many)
    yield statements


IDENTITY_TABLES = re.compile(r'\b(person|party|party_membership|account)\b"?\s', re.IGNORECASE)


def identity_sql(statements: list[str]) -> list[str]:
    """Statements that read or write who someone is (person, parties, memberships, account)."""
    return [sql for sql in statements if IDENTITY_TABLES.search(sql + " ")]


def counted_trips(monkeypatch, *, redis: bool) -> list[str]:
    """Every round trip to the app's key-value stores (sessions, rate limits), by name.

    Redis: each command (its name) or pipeline the redis-py clients send, scripts included.
    Memory: each call into the store layer from outside it (a memory store's methods,
    `stores.get_many` / `set_if_present`, the rate limiter's `hit` / `hit_both`); what such a
    call does inside is part of that one call, as a script's commands are on Redis."""
    trips: list[str] = []
    depth: ContextVar[int] = ContextVar("store_call_depth", default=0)

    def wrap(owner, name: str, label) -> None:
        original = getattr(owner, name)

        async def counted(*args, **kwargs):
            if depth.get() == 0:
                trips.append(label(args) if callable(label) else label)
            token = depth.set(depth.get() + 1)
            try:
                return await original(*args, **kwargs)
            finally:
                depth.reset(token)

        monkeypatch.setattr(owner, name, counted)

    if redis:
        wrap(RedisClient, "execute_command", lambda args: str(args[1]).lower())
        wrap(RedisPipeline, "execute", "pipeline")
        return trips
    for name in ("get", "set", "delete", "exists", "expires_in"):
        wrap(MemoryStore, name, name)
    wrap(stores, "get_many", "get_many")
    wrap(stores, "set_if_present", "set_if_present")
    wrap(RateLimits, "hit", "hit")
    wrap(RateLimits, "hit_both", "hit_both")
    return trips


async def _age_seen(client, store) -> None:
    """Make the stored `seen` older than its resolution: the next request writes it back."""
    session_id = client.cookies.get("session")
    record = sessions.RotatingSessionBackend.deserialize_data(await store.get(session_id))
    record["seen"] = time.time() - sessions.SEEN_RESOLUTION_SECONDS - 1
    await store.set(session_id, sessions.RotatingSessionBackend.serialize_data(record))


@pytest.fixture(scope="module")
def redis_url():
    with redis_server() as url:
        yield url


@pytest.fixture(params=["memory", "redis"])
async def store_kind_client(request, make_app):
    """An app on the embedded default (memory stores) and one on a Redis of the test's own:
    the same behaviour and the same counts on both. Also the session store, as the test's
    own client sees it (the app's Redis connections belong to the app's event loop)."""
    if request.param == "memory":
        async with AsyncTestClient(app=make_app()) as client:
            yield request.param, client, client.app.stores.get(sessions.STORE_NAME)
        return
    url = request.getfixturevalue("redis_url")
    redis = Redis.from_url(url)
    async with AsyncTestClient(app=make_app(redis_url=url)) as client:
        store = RedisStore(redis, namespace="egomruk").with_namespace(sessions.STORE_NAME)
        yield request.param, client, store
    await redis.aclose()


async def _lookup(client, body_id: int):
    return await client.get(
        "/letters/track", params=lookup_params(body_id, "M-1024/2026", "03.11.2026"), headers=HTMX
    )


# What each request costs, by store: (what is sent, in order).
EXPECTED_TRIPS = {
    "memory": {
        "page": ["hit", "get_many"],
        "page, seen due": ["hit", "get_many", "set_if_present"],
        "lookup": ["get_many", "hit_both"],
        "lookup, seen due": ["get_many", "hit_both"],
    },
    "redis": {  # the general limit's script; MGET of the session and its version; SET … XX
        "page": ["evalsha", "mget"],
        "page, seen due": ["evalsha", "mget", "set"],
        "lookup": ["mget", "evalsha"],
        "lookup, seen due": ["mget", "evalsha"],
    },
}


async def test_store_round_trips_per_signed_in_page_and_per_lookup(store_kind_client, monkeypatch):
    """A lookup: the session read (with its person's authority version) and one round trip for
    both counters and a due `seen` write-back: 2 (issue 12's budget). A page: the general limit,
    the session read, and a write-back only when `seen` is due (one atomic SET … XX, no EXISTS
    first)."""
    kind, client, store = store_kind_client
    await sign_in(client, "vetendas")
    body_id = (await CustomsBody.get(name="Bakı Baş Gömrük İdarəsi")).id
    for warm in ("/letters", None):  # scripts loaded, pools filled
        assert (await (client.get(warm) if warm else _lookup(client, body_id))).status_code == 200
    counted: dict[str, list[str]] = {}
    for case in EXPECTED_TRIPS[kind]:
        if "seen due" in case:
            await _age_seen(client, store)
        trips = counted_trips(monkeypatch, redis=kind == "redis")
        response = await (_lookup(client, body_id) if "lookup" in case else client.get("/letters"))
        assert response.status_code == 200
        counted[case] = list(trips)
        monkeypatch.undo()
        assert "session=" not in response.headers.get("set-cookie", "")
    assert counted == EXPECTED_TRIPS[kind]
    assert all(len(counted[case]) <= 2 for case in counted if "lookup" in case)
    record = await store.get(client.cookies.get("session"))
    saved = sessions.RotatingSessionBackend.deserialize_data(record)
    assert saved["seen"] > time.time() - 5  # the lookup's write-back was written


async def test_a_sign_out_during_a_lookup_is_not_undone_by_its_write_back(
    store_kind_client, monkeypatch
):
    """The session is deleted (signed out elsewhere) after this lookup read it and before its
    due `seen` is written back with the counters: the record stays deleted, the cookie goes."""
    _, client, store = store_kind_client
    await sign_in(client, "vetendas")
    body_id = (await CustomsBody.get(name="Bakı Baş Gömrük İdarəsi")).id
    await _age_seen(client, store)
    session_id = client.cookies.get("session")
    original = RateLimits.hit_both

    async def signed_out_meanwhile(self, *args, **kwargs):  # runs on the app's loop
        await client.app.stores.get(sessions.STORE_NAME).delete(session_id)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(RateLimits, "hit_both", signed_out_meanwhile)
    response = await _lookup(client, body_id)
    assert response.status_code == 200
    assert await store.get(session_id) is None
    assert "session=null" in response.headers.get("set-cookie", "").replace('"', "")


async def test_a_signed_in_page_runs_no_identity_sql(client, monkeypatch):
    """Who is signed in and for whom they act come from the session (issue 12: 0 statements
    for identity per signed-in page), for a citizen acting for a party and for staff."""
    for username, page in (("vetendas", "/letters"), ("vetendas", "/"), ("katib", "/registry")):
        client.cookies.clear()
        await sign_in(client, username)
        assert (await client.get(page)).status_code == 200  # warm
        async with counted_sql(monkeypatch) as statements:
            response = await client.get(page)
            await asyncio.sleep(0)
        assert response.status_code == 200
        assert identity_sql(statements) == [], (username, page, statements)
        monkeypatch.undo()


async def test_sql_statements_per_found_lookup_stay_within_budget(client, monkeypatch):
    await sign_in(client, "vetendas")
    body_id = (await CustomsBody.get(name="Bakı Baş Gömrük İdarəsi")).id
    assert (await _lookup(client, body_id)).status_code == 200  # warm: statements, pool
    async with counted_sql(monkeypatch) as statements:
        response = await _lookup(client, body_id)
        await asyncio.sleep(0)
    assert response.status_code == 200
    assert "Elnur Həsənov" in response.text
    assert identity_sql(statements) == [], statements  # identity comes from the session
    # The letter part (issue 12 allows two): the letter with its body, unit, executor,
    # attachments and public history in one statement; only the columns the page shows.
    letter_part = [sql for sql in statements if 'FROM "letter' in sql]
    assert len(letter_part) == 1, letter_part
    unrendered = ('"internal_note"', '"text"', '"subject"', '"applicant_name"', '"storage_key"')
    assert not [sql for sql in letter_part if any(column in sql for column in unrendered)]
    assert len(statements) <= 2, statements  # nothing else either: issue 12's goal
    # asyncpg's pool sent `RESET ALL…` each time Tortoise returned a connection (once per
    # query): web/platform/db.py replaces it.
    assert not [sql for sql in statements if "RESET ALL" in sql]


async def test_a_found_lookup_builds_no_sql_once_warm(client, monkeypatch):
    """CPU, counted rather than timed: the lookup's one statement is written once per
    dialect (web/letters/service.py `lookup_sql`), then only sent; the ORM building the
    statements was a fifth of a lookup's CPU time. One built while counting fails this."""
    await sign_in(client, "vetendas")
    body_id = (await CustomsBody.get(name="Bakı Baş Gömrük İdarəsi")).id
    assert (await _lookup(client, body_id)).status_code == 200  # warm: statements built
    built: list[str] = []
    original = ValuesQuery._make_query

    def counted(self):
        built.append(self.model.__name__)
        return original(self)

    monkeypatch.setattr(ValuesQuery, "_make_query", counted)
    async with counted_sql(monkeypatch) as statements:
        response = await _lookup(client, body_id)
    assert response.status_code == 200
    assert "Elnur Həsənov" in response.text
    assert len(statements) == 1, statements
    assert built == [], built


async def test_no_route_runs_a_guard_in_a_worker_thread(client):
    """Litestar runs a guard that is a plain function in a worker thread (`AsyncCallable`):
    a thread hop on every request of the route. The app's guards are coroutine functions."""
    threaded = [
        f"{route.path}: {guard.func.__qualname__}"
        for route in client.app.routes
        for handler in getattr(route, "route_handlers", ())
        for guard in handler.resolve_guards()
        if isinstance(guard, AsyncCallable)
    ]
    assert threaded == []


async def test_a_lagging_seen_never_ends_a_session_before_the_idle_limit(client, monkeypatch):
    """`seen` is written at most every SEEN_RESOLUTION_SECONDS, so it may lag the last request
    by that much: the session still lives until the idle limit after that request."""
    await sign_in(client, "vetendas")
    real_time = sessions.time.time
    lag = sessions.SEEN_RESOLUTION_SECONDS - 1
    monkeypatch.setattr(sessions.time, "time", lambda: real_time() + lag)
    assert (await client.get("/letters", follow_redirects=False)).status_code == 200  # not saved
    idle_limit = client.app.state.settings.session_idle_seconds
    monkeypatch.setattr(sessions.time, "time", lambda: real_time() + lag + idle_limit - 1)
    assert (await client.get("/letters", follow_redirects=False)).status_code == 200


async def test_no_route_resolves_plain_dependencies_in_a_task_group(client):
    """A batch of two or more dependencies costs an anyio task group (a task each); the app's
    plain-function providers (`settings`, `user`, ...) get a batch each instead
    (`SerialSyncDependencies`), so the lookup asking for three of them starts no task."""
    grouped = [
        f"{route.path}: {sorted(dependency.key for dependency in batch)}"
        for route in client.app.routes
        for _, model in getattr(route, "route_handler_map", {}).values()
        for batch in model.dependency_batches
        if len(batch) > 1 and any(dependency.provide.has_sync_callable for dependency in batch)
    ]
    assert grouped == []
    (track,) = [route for route in client.app.routes if route.path == "/letters/track"]
    _, lookup = track.route_handler_map["GET"]
    assert len(lookup.dependency_batches) == 3  # user, settings, rate_limits
