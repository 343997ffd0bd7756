"""Round trips per request as tests (issue 12): SQL statements and session-store operations
are counted, not timed, so the budgets hold on any machine. Counted where they leave: the
Tortoise SQLite client's statements, asyncpg's query methods (pool `RESET ALL` included)."""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import asynccontextmanager

import asyncpg
import pytest
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper
from tortoise.connection import connections

from models.letters import CustomsBody
from tests.integration.letters_support import lookup_params, sign_in
from web.identity import sessions

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


def counted_store(client, monkeypatch) -> list[str]:
    """Every operation on the app's session store, by name."""
    operations: list[str] = []
    store = client.app.stores.get("sessions")
    for name in ("get", "set", "delete", "expires_in", "exists"):
        original = getattr(type(store), name)

        async def counted(self, *args, _name=name, _original=original, **kwargs):
            if self is store:
                operations.append(_name)
            return await _original(self, *args, **kwargs)

        monkeypatch.setattr(type(store), name, counted)
    return operations


async def _lookup(client, body_id: int):
    return await client.get(
        "/letters/track", params=lookup_params(body_id, "M-1024/2026", "03.11.2026"), headers=HTMX
    )


async def test_a_signed_in_request_that_changes_nothing_reads_the_session_once_and_writes_nothing(
    client, monkeypatch
):
    await sign_in(client, "vetendas")
    assert (await client.get("/letters")).status_code == 200
    operations = counted_store(client, monkeypatch)
    response = await client.get("/letters")
    assert response.status_code == 200
    assert operations == ["get"]
    assert "session=" not in response.headers.get("set-cookie", "")


async def test_seen_is_written_back_once_it_is_older_than_its_resolution(client, monkeypatch):
    await sign_in(client, "vetendas")
    store = client.app.stores.get("sessions")
    session_id = client.cookies.get("session")
    record = sessions.RotatingSessionBackend.deserialize_data(await store.get(session_id))
    record["seen"] = time.time() - sessions.SEEN_RESOLUTION_SECONDS - 1
    await store.set(session_id, sessions.RotatingSessionBackend.serialize_data(record))
    operations = counted_store(client, monkeypatch)
    assert (await client.get("/letters")).status_code == 200
    # get; exists (a sign-out during the request must not be undone by this write); set
    assert operations == ["get", "exists", "set"]
    saved = sessions.RotatingSessionBackend.deserialize_data(await store.get(session_id))
    assert saved["seen"] > time.time() - 5


async def test_sql_statements_per_found_lookup_stay_within_budget(client, monkeypatch):
    await sign_in(client, "vetendas")
    body_id = (await CustomsBody.get(name="Bakı Baş Gömrük İdarəsi")).id
    assert (await _lookup(client, body_id)).status_code == 200  # warm: statements, pool
    async with counted_sql(monkeypatch) as statements:
        response = await _lookup(client, body_id)
        await asyncio.sleep(0)
    assert response.status_code == 200
    assert "Elnur Həsənov" in response.text
    # The letter part (issue 12): the letter with its body, unit, executor and attachments
    # in one statement, its public history in another; only the columns the page shows.
    letter_part = [sql for sql in statements if 'FROM "letter' in sql]
    assert len(letter_part) <= 2, letter_part
    unrendered = ('"internal_note"', '"text"', '"subject"', '"applicant_name"', '"storage_key"')
    assert not [sql for sql in letter_part if any(column in sql for column in unrendered)]
    # Identity (person, parties) is the rest: 2 until it lives in the session (goal 0).
    identity = [sql for sql in statements if sql not in letter_part]
    assert len(identity) <= 2, identity
    # asyncpg's pool sent `RESET ALL…` each time Tortoise returned a connection (once per
    # query): web/platform/db.py replaces it.
    assert not [sql for sql in statements if "RESET ALL" in sql]


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
