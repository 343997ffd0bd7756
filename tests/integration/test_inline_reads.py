"""Short reads on the event loop's own connection (`web/platform/sqlite.py`, `_InlineReads`).

A read outside a transaction first runs on a read-only connection of the loop's own thread
within a time budget; over budget, busy, failing or asked on another loop it runs on a
reader as before. These tests drive the real SQLite client (`connections.get("default")`,
the app's configuration) and watch which connection ran what: the inline connection's
statements through its trace callback, the readers' through their `execute_query*`.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from contextlib import asynccontextmanager

import pytest
from tortoise.connection import connections
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from models.letters import CustomsBody
from tests.integration.letters_support import lookup_params, sign_in
from web.platform import sqlite

pytestmark = [
    pytest.mark.usefixtures("seeded"),
    # SQLite's own client; the PostgreSQL pass has no inline reads to test.
    pytest.mark.skipif(
        os.environ.get("TEST_DATABASE") == "postgres",
        reason="inline reads are SQLite's: the SQLite pass runs these",
    ),
]

BODY = "Bakı Baş Gömrük İdarəsi"
COUNT_TO = 3_000_000  # ~0.5 s of VM work: far over the budget, far under the time limit
LONG_COUNT = (
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ?) "
    "SELECT count(*) AS n FROM c"
)
POSITION = 'SELECT "position" FROM "customs_body" WHERE "id" = ?'


@pytest.fixture
def readers_used(monkeypatch) -> list[str]:
    """The SQL of every read a reader ran (any client), in order."""
    used: list[str] = []
    original = sqlite.SqliteClient.execute_query
    original_dict = sqlite.SqliteClient.execute_query_dict

    def recording(method):
        async def run(self, query, values=None):
            if not self.readers and self.pragmas.get("query_only") == "ON":  # a reader
                used.append(query)
            return await method(self, query, values)

        return run

    monkeypatch.setattr(sqlite.SqliteClient, "execute_query", recording(original))
    monkeypatch.setattr(sqlite.SqliteClient, "execute_query_dict", recording(original_dict))
    return used


@asynccontextmanager
async def traced_inline(client):
    """The SQL the client's inline connection runs while inside (connected first)."""
    await client.execute_query_dict("SELECT 1 AS one")
    connection = client.inline.connection
    assert connection is not None and client.inline.loop is asyncio.get_running_loop()
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    try:
        yield statements
    finally:
        connection.set_trace_callback(None)


def _client():
    client = connections.get("default")
    assert isinstance(client, sqlite.SqliteClient) and client.inline is not None
    return client


async def test_a_lookups_sql_runs_inline_on_the_apps_loop(client, monkeypatch):
    """The signed-in letter lookup's statement is answered on the app loop's own connection:
    no reader, no thread hand-off."""
    # Not the budget under test: a descheduled thread must not move the statement away.
    monkeypatch.setattr(sqlite, "INLINE_BUDGET_SECONDS", 5.0)
    await sign_in(client, "vetendas")
    body_id = (await CustomsBody.get(name=BODY)).id
    params = lookup_params(body_id, "M-1024/2026", "03.11.2026")
    headers = {"hx-request": "true"}
    assert (await client.get("/letters/track", params=params, headers=headers)).status_code == 200
    inline_answers: list[tuple[str, int]] = []
    readers: list[str] = []
    fetch, reader = sqlite._InlineReads.fetch, sqlite.SqliteClient._reader

    def recording_fetch(self, query, values):
        rows = fetch(self, query, values)
        if rows is not None:
            inline_answers.append((query, threading.get_ident()))
        return rows

    def recording_reader(self):
        readers.append("reader")
        return reader(self)

    monkeypatch.setattr(sqlite._InlineReads, "fetch", recording_fetch)
    monkeypatch.setattr(sqlite.SqliteClient, "_reader", recording_reader)
    response = await client.get("/letters/track", params=params, headers=headers)
    assert response.status_code == 200
    assert "Elnur Həsənov" in response.text
    assert [sql for sql, _ in inline_answers if 'FROM "letter' in sql], inline_answers
    assert readers == []
    # On the app's loop (the test client runs it on a thread of its own), not the test's.
    threads = {thread for _, thread in inline_answers}
    assert len(threads) == 1 and threading.get_ident() not in threads, threads


async def test_a_read_over_budget_runs_on_a_reader_and_goes_there_at_once_next_time(
    db, readers_used, monkeypatch
):
    client = _client()
    attempts: list[tuple[bool, float]] = []
    fetch = sqlite._InlineReads.fetch

    def timed_fetch(self, query, values):
        started = time.perf_counter()
        rows = fetch(self, query, values)
        attempts.append((rows is not None, time.perf_counter() - started))
        return rows

    monkeypatch.setattr(sqlite._InlineReads, "fetch", timed_fetch)
    async with traced_inline(client) as traced:
        attempts.clear()
        started = time.perf_counter()
        assert await client.execute_query_dict(LONG_COUNT, [COUNT_TO]) == [{"n": COUNT_TO}]
        elapsed = time.perf_counter() - started
        assert [sql for sql in traced if "RECURSIVE" in sql], traced  # tried inline first
        assert readers_used == [LONG_COUNT]  # then answered by a reader
        ((answered, held),) = attempts
        assert not answered
        assert held < elapsed / 4, (held, elapsed)  # stopped at the budget, not the end
        assert LONG_COUNT in client.inline.slow

        traced.clear()
        attempts.clear()
        count, rows = await client.execute_query(LONG_COUNT, [COUNT_TO])
        assert (count, [dict(row) for row in rows]) == (1, [{"n": COUNT_TO}])
        assert traced == []  # not tried inline again
        assert readers_used == [LONG_COUNT, LONG_COUNT]
        assert [answered for answered, _ in attempts] == [False]

        # A while later it is tried inline again (one overrun may have been bad luck).
        client.inline.slow[LONG_COUNT] = time.perf_counter() - 1
        monkeypatch.setattr(sqlite, "INLINE_BUDGET_SECONDS", 60.0)
        assert await client.execute_query_dict(LONG_COUNT, [10]) == [{"n": 10}]
        assert [sql for sql in traced if "RECURSIVE" in sql]
        assert LONG_COUNT not in client.inline.slow
        assert len(readers_used) == 2


class _Busy:
    """Stands in for the inline connection: every statement finds the database locked."""

    def __init__(self) -> None:
        self.calls = 0

    def execute(self, *args):
        self.calls += 1
        error = sqlite3.OperationalError("database is locked")
        error.sqlite_errorcode = sqlite3.SQLITE_BUSY
        raise error


async def test_a_busy_database_sends_the_read_to_a_reader(db, readers_used):
    client = _client()
    body = await CustomsBody.get(name=BODY)
    await client.execute_query_dict("SELECT 1 AS one")  # connected
    real, busy = client.inline.connection, _Busy()
    client.inline.connection = busy
    try:
        rows = await client.execute_query_dict(POSITION, [body.id])
    finally:
        client.inline.connection = real
    assert rows == [{"position": body.position}]
    assert busy.calls == 1
    assert readers_used == [POSITION]
    assert POSITION not in client.inline.slow  # busy is not slow: inline next time
    assert await client.execute_query_dict(POSITION, [body.id]) == rows
    assert readers_used == [POSITION]


async def test_a_read_from_another_thread_goes_to_a_reader(db, readers_used):
    """The inline connection belongs to the loop that made it (sqlite3 connections belong to
    their thread): a read from another thread and loop goes to a reader, and does not bind
    the inline connection to that loop when the client is bound to this one."""
    client = _client()
    body = await CustomsBody.get(name=BODY)
    inline, client.inline = client.inline, None
    try:  # a reader connected on this loop, as the app's would be
        assert await client.execute_query_dict(POSITION, [body.id])
    finally:
        client.inline = inline
    inline.close()
    readers_used.clear()

    def elsewhere():
        return threading.get_ident(), asyncio.run(client.execute_query_dict(POSITION, [body.id]))

    thread, rows = await asyncio.to_thread(elsewhere)
    assert thread != threading.get_ident()
    assert rows == [{"position": body.position}]
    assert readers_used == [POSITION]
    assert inline.connection is None and inline.loop is None  # not bound to that loop

    async with traced_inline(client) as traced:  # this loop's connection
        thread, rows = await asyncio.to_thread(elsewhere)
        assert rows == [{"position": body.position}]
        assert traced == []
        assert readers_used == [POSITION, POSITION]
        assert inline.loop is asyncio.get_running_loop()
        assert await client.execute_query_dict(POSITION, [body.id]) == rows
        assert [sql for sql in traced if 'FROM "customs_body"' in sql]
        assert readers_used == [POSITION, POSITION]
    assert client._check_loop()


async def test_a_sql_error_is_raised_as_tortoise_raises_it(db, readers_used):
    client = _client()
    for method in (client.execute_query, client.execute_query_dict):
        with pytest.raises(OperationalError, match="no such table: no_such_table") as raised:
            await method("SELECT * FROM no_such_table")
        assert isinstance(raised.value.__cause__ or raised.value.args[0], sqlite3.Error)
        assert not isinstance(raised.value, sqlite.StatementTimeout)
    assert readers_used == ["SELECT * FROM no_such_table"] * 2  # the reader raised it
    assert "SELECT * FROM no_such_table" not in client.inline.slow


async def test_reads_see_writes_committed_just_before(db, readers_used):
    """Each inline read is its own read transaction: it sees every commit made before it,
    and nothing a transaction has not committed yet (nor does an open one make it wait)."""
    client = _client()
    body = await CustomsBody.get(name=BODY)
    position = body.position
    try:
        async with traced_inline(client) as traced:
            for step in range(1, 4):
                await CustomsBody.filter(id=body.id).update(position=position + step)
                rows = await client.execute_query_dict(POSITION, [body.id])
                assert rows == [{"position": position + step}]
            async with in_transaction() as transaction:
                rows_of = CustomsBody.filter(id=body.id).using_db(transaction)
                await rows_of.update(position=position + 100)
                assert await client.execute_query_dict(POSITION, [body.id]) == rows
            assert await client.execute_query_dict(POSITION, [body.id]) == [
                {"position": position + 100}
            ]
            assert len([sql for sql in traced if 'FROM "customs_body"' in sql]) == 5, traced
            assert readers_used == []
    finally:
        await CustomsBody.filter(id=body.id).update(position=position)


async def test_close_closes_the_inline_connection_and_a_later_read_connects_anew(db, readers_used):
    client = _client()
    assert await client.execute_query_dict("SELECT 1 AS one") == [{"one": 1}]
    first = client.inline.connection
    assert first is not None
    await client.close()
    assert client.inline.connection is None and client.inline.loop is None
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        first.execute("SELECT 1")
    # Used again (Tortoise reconnects the writer and readers on their next statement).
    assert await client.execute_query_dict("SELECT 2 AS two") == [{"two": 2}]
    second = client.inline.connection
    assert second is not None and second is not first
    assert readers_used == []
    assert client._check_loop()
    # Closed from another thread (sqlite3 refuses there): forgotten, no error.
    await asyncio.to_thread(client.inline.close)
    assert client.inline.connection is None
    assert await client.execute_query_dict("SELECT 3 AS three") == [{"three": 3}]


@pytest.mark.parametrize(
    ("query", "read"),
    [
        ("SELECT 1", True),
        ("  with t AS (SELECT 1) SELECT * FROM t", True),
        ("WITH t AS (SELECT 1) DELETE FROM x WHERE id IN t RETURNING id", False),
        ("WITH t AS (SELECT 1) INSERT INTO x SELECT * FROM t", False),
        ("WITH t AS (SELECT 1) update x SET a = 1", False),
        ("WITH t AS (SELECT 'delete') SELECT * FROM t", False),  # to the writer: still right
        ("INSERT INTO x VALUES (1)", False),
        ("PRAGMA index_list('x')", False),
    ],
)
def test_what_counts_as_a_read(query, read):
    assert sqlite.is_read(query) is read


async def test_a_write_that_starts_with_with_runs_on_the_writer(db, readers_used):
    """`WITH … DELETE … RETURNING` is a write: the read-only connections would refuse it."""
    client = _client()
    await client.execute_script(
        "CREATE TABLE IF NOT EXISTS inline_probe (id INTEGER PRIMARY KEY); "
        "INSERT INTO inline_probe (id) VALUES (1), (2), (3)"
    )
    try:
        _count, rows = await client.execute_query(
            "WITH doomed AS (SELECT 2 AS id) "
            "DELETE FROM inline_probe WHERE id IN (SELECT id FROM doomed) RETURNING id"
        )
        assert [row["id"] for row in rows] == [2]
        _count, left = await client.execute_query("SELECT id FROM inline_probe ORDER BY id")
        assert [row["id"] for row in left] == [1, 3]
        assert not [sql for sql in readers_used if "DELETE" in sql]
    finally:
        await client.execute_script("DROP TABLE inline_probe")
