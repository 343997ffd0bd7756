"""The embedded SQLite database, set up so that one slow query cannot freeze the worker.

Tortoise's SQLite client runs every statement of the process on one aiosqlite connection
(one thread), one at a time: a statement that scans for a minute holds every other request's
queries for that minute. Two changes, the smallest that together give the guarantee:

* **Reads on connections of their own.** A statement that starts with SELECT or WITH, sent
  outside a transaction, runs on one of `READERS` read-only connections (`query_only`); WAL
  lets them read while the writer writes. Each statement is its own read transaction
  (autocommit), so it sees every commit made before it starts: a request reads its own
  writes. Writes and transactions keep the one writer connection, as SQLite allows one
  writer at a time anyway. A slow read then holds one reader, not the worker.
* **A time limit per statement** (`DATABASE_QUERY_TIMEOUT_SECONDS`, PostgreSQL's command
  timeout too). When it passes, the event loop calls `sqlite3.Connection.interrupt()`
  (meant to be called from another thread); the statement stops, a write's transaction is
  rolled back, and `StatementTimeout` — a `TimeoutError`, an outage to
  `health.outage_of` — makes the request a 503 page, as a PostgreSQL command timeout does.
  A timer costs nothing per statement; a progress handler (the other way to stop a
  statement) would call into Python, taking the GIL from the request threads, every few
  thousand instructions of every statement.

Either alone is not enough: a time limit alone still freezes every request for up to the
limit; readers alone let a runaway read hold its reader for ever, and `READERS` of them hold
every read.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

from tortoise.backends.base.client import (
    ConnectionWrapper,
    NestedTransactionContext,
    TransactionContext,
)
from tortoise.backends.sqlite.client import SqliteClient as TortoiseSqliteClient
from tortoise.backends.sqlite.client import SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.exceptions import OperationalError

# Isolation, not parallelism (the reads run on threads, the GIL released): enough that a few
# slow reads at once still leave readers for everyone else.
READERS = 4
_READ = re.compile(r"\s*(SELECT|WITH)\b", re.IGNORECASE)


class StatementTimeout(OperationalError, TimeoutError):
    """A statement ran past the time limit and was interrupted (a 503, not a 500)."""


class _TimedConnection(ConnectionWrapper):
    """The connection's lock, and while it is held, the statement's time limit."""

    __slots__ = ("fired", "timeout", "timer")

    def __init__(self, lock: asyncio.Lock, client: Any, timeout: float | None) -> None:
        super().__init__(lock, client)
        self.timeout = timeout
        self.timer: asyncio.TimerHandle | None = None
        self.fired = False

    async def __aenter__(self) -> Any:
        connection = await super().__aenter__()
        if self.timeout:
            self.timer = asyncio.get_running_loop().call_later(self.timeout, self._interrupt)
        return connection

    def _interrupt(self) -> None:
        self.fired = True
        # A no-op when the statement has just ended: SQLite interrupts running statements only.
        with suppress(Exception):  # closed meanwhile
            self.connection._conn.interrupt()

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self.timer is not None:
            self.timer.cancel()
        await super().__aexit__(exc_type, exc, tb)
        if self.fired and isinstance(exc, sqlite3.OperationalError):
            raise StatementTimeout(f"statement interrupted after {self.timeout:g} s") from exc


class SqliteClient(TortoiseSqliteClient):
    """Tortoise's SQLite client with read connections and a statement time limit (see the
    module's docstring). `statement_timeout` (seconds) and `readers` are settings of this
    class, not PRAGMAs."""

    def __init__(
        self,
        file_path: str,
        *,
        statement_timeout: float | None = None,
        readers: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(file_path, **kwargs)
        self.statement_timeout = statement_timeout
        in_memory = file_path == ":memory:" or "mode=memory" in file_path  # one per connection
        self.readers: list[SqliteClient] = [
            SqliteClient(file_path, statement_timeout=statement_timeout, query_only="ON", **kwargs)
            for _ in range(0 if in_memory else readers)
        ]
        self._idle = list(self.readers)
        self._free = asyncio.Semaphore(len(self.readers))

    def acquire_connection(self) -> ConnectionWrapper:
        return _TimedConnection(self._lock, self, self.statement_timeout)

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(_TransactionWrapper(self), self._lock)

    @asynccontextmanager
    async def _reader(self) -> AsyncIterator[SqliteClient]:
        async with self._free:
            reader = self._idle.pop()
            try:
                yield reader
            finally:
                self._idle.append(reader)

    async def execute_query(
        self, query: str, values: list | None = None
    ) -> tuple[int, Sequence[dict]]:
        if self.readers and _READ.match(query):
            async with self._reader() as reader:
                return await reader.execute_query(query, values)
        return await super().execute_query(query, values)

    async def execute_query_dict(self, query: str, values: list | None = None) -> list[dict]:
        if self.readers and _READ.match(query):
            async with self._reader() as reader:
                return await reader.execute_query_dict(query, values)
        return await super().execute_query_dict(query, values)

    async def close(self) -> None:
        for reader in self.readers:
            await reader.close()
        await super().close()

    def _check_loop(self) -> bool:
        # A reader connected on another event loop makes the whole client stale. Tortoise
        # asks on every `connections.get` (a dozen a lookup): the running loop is looked up
        # once, not once a reader.
        if not super()._check_loop():
            return False
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            return True
        return all(reader._bound_loop in (None, current) for reader in self.readers)

    async def each_connection(self, call: Callable[[sqlite3.Connection], Any]) -> None:
        """Run `call` with each connection (writer and readers), on that connection's own
        thread, connecting them first (tests count a statement's VM steps this way)."""
        for client in (self, *self.readers):
            async with client.acquire_connection() as connection:
                await connection._execute(call, connection._conn)


class _TransactionWrapper(SqliteTransactionWrapper):
    """A transaction on the writer connection, its statements under the same time limit."""

    def __init__(self, connection: Any) -> None:
        super().__init__(connection)
        self.statement_timeout = connection.statement_timeout

    def acquire_connection(self) -> ConnectionWrapper:
        return _TimedConnection(self._lock, self, self.statement_timeout)

    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(_TransactionWrapper(self))


client_class = SqliteClient  # Tortoise's engine protocol: `"engine": "web.platform.sqlite"`
