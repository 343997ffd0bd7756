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

**Short reads on the event loop's own thread, within a budget.** Handing a statement to a
reader's thread and its answer back costs far more than a point read itself (about 200 µs
of CPU against 30 µs for the letter lookup, most of it waking the thread and then the loop,
and each hand-off gives up the GIL, which on a loaded machine waits for its turn). So a
read first runs on a read-only connection of the loop's own (`_InlineReads`) with a budget
of `INLINE_BUDGET_SECONDS`: a progress handler looks at the clock every
`INLINE_CHECK_STEPS` VM instructions and interrupts the statement once the budget is spent.
An interrupted read — or one that finds the database busy, or fails in any way — runs again
on a reader as above, where it has its time limit (and its error is raised as Tortoise
raises it); its SQL text is remembered so that it goes to a reader at once for the next
`_SLOW_SECONDS` (one overrun may be a cold cache or a descheduled thread, so it is tried
inline again after that). The loop is therefore held for at most about the budget by any
one read: the guarantee above holds, with a bound of milliseconds instead of a thread
hand-off per statement. The inline connection belongs to the event loop that first used it
(a client is bound to its loop, as Tortoise's are); a read on another loop or thread goes to
a reader.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
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
# `WITH … DELETE/INSERT/UPDATE/REPLACE … RETURNING` writes; the read-only connections would
# refuse it. A write word anywhere (a literal's text too) sends it to the writer: safe.
_WRITE_WORD = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def is_read(query: str) -> bool:
    """Whether a statement only reads, so it may run inline or on a reader."""
    started = _READ.match(query)
    return started is not None and (
        started.group(1).upper() == "SELECT" or _WRITE_WORD.search(query) is None
    )


# The most a read may hold the event loop before it is moved to a reader: a few requests'
# worth of CPU, where the reads the pages make (index point reads, a page of keyset rows)
# take 10-100 µs.
INLINE_BUDGET_SECONDS = 0.002
INLINE_CHECK_STEPS = 1000  # VM instructions between clock checks (~20-100 µs of work)
_SLOW_MEMORY = 512  # SQL texts remembered as too slow to run inline (then forgotten at once)
_SLOW_SECONDS = 60.0  # how long such a text goes to a reader before it is tried inline again


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


class _InlineReads:
    """A read-only connection used on one event loop's own thread, for reads that fit the
    budget (see the module's docstring). `fetch` answers the rows, or None when the read
    must go to a reader instead (over budget, busy, failed, or asked on another loop).

    The connection is made on first use and belongs to that loop (`loop`, part of the
    client's `_check_loop`, as the readers' loops are); `close` forgets both, so a client
    closed and used again connects anew."""

    def __init__(self, filename: str, pragmas: dict[str, Any]) -> None:
        self.filename = filename
        # Busy means a reader's turn: never wait on the loop's thread (`timeout=0` below).
        self.pragmas = {key: value for key, value in pragmas.items() if key != "busy_timeout"}
        self.connection: sqlite3.Connection | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.deadline = 0.0
        # SQL text -> until when it goes to a reader at once (`perf_counter` time). Retried
        # inline after `_SLOW_SECONDS`: one overrun may be a cold cache or the thread
        # descheduled, not the statement.
        self.slow: dict[str, float] = {}

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread stays on: a loop run later on another thread gets an error
        # (a reader's turn), not a connection shared between threads.
        connection = sqlite3.connect(self.filename, isolation_level=None, timeout=0)
        try:
            connection.row_factory = sqlite3.Row
            for pragma, value in self.pragmas.items():
                connection.execute(f"PRAGMA {pragma}={value}").close()
            connection.set_progress_handler(self._over_budget, INLINE_CHECK_STEPS)
        except BaseException:
            connection.close()
            raise
        return connection

    def _over_budget(self) -> bool:
        # Every INLINE_CHECK_STEPS instructions of a statement's cumulative count (SQLite
        # keeps counting across its runs while it is cached), hence a clock, not a count.
        return time.perf_counter() > self.deadline

    def fetch(self, query: str, values: list | None) -> list[sqlite3.Row] | None:
        if self.slow and (until := self.slow.get(query)) is not None:
            if time.perf_counter() < until:
                return None
            del self.slow[query]
        loop = asyncio.get_running_loop()
        connection = self.connection
        if connection is None:
            try:
                connection = self._connect()
            except sqlite3.Error:
                return None
            self.connection, self.loop = connection, loop
        elif self.loop is not loop:
            return None  # made on another loop (its thread's): not ours to use
        self.deadline = time.perf_counter() + INLINE_BUDGET_SECONDS
        try:
            return connection.execute(query, values or ()).fetchall()
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_INTERRUPT:
                if len(self.slow) >= _SLOW_MEMORY:
                    self.slow.clear()
                self.slow[query] = time.perf_counter() + _SLOW_SECONDS
            return None

    def close(self) -> None:
        connection, self.connection, self.loop = self.connection, None, None
        if connection is not None:
            # From another thread sqlite3 refuses; the last reference going closes it then.
            with suppress(sqlite3.ProgrammingError):
                connection.close()


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
        # None with no readers (an in-memory database); tests that count VM steps on the
        # readers (`each_connection`) set it aside meanwhile.
        self.inline: _InlineReads | None = (
            _InlineReads(file_path, self.readers[0].pragmas) if self.readers else None
        )

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

    def _inline(self, query: str, values: list | None) -> list[sqlite3.Row] | None:
        inline = self.inline
        if inline is None:
            return None
        if inline.connection is None and not self._check_loop():
            return None  # the client is bound to another loop: not the one to bind it to
        return inline.fetch(query.replace("\x00", "'||CHAR(0)||'"), values)  # as Tortoise

    async def execute_query(
        self, query: str, values: list | None = None
    ) -> tuple[int, Sequence[dict]]:
        if self.readers and is_read(query):
            if (rows := self._inline(query, values)) is not None:
                return len(rows), rows
            async with self._reader() as reader:
                return await reader.execute_query(query, values)
        return await super().execute_query(query, values)

    async def execute_query_dict(self, query: str, values: list | None = None) -> list[dict]:
        if self.readers and is_read(query):
            if (rows := self._inline(query, values)) is not None:
                return list(map(dict, rows))
            async with self._reader() as reader:
                return await reader.execute_query_dict(query, values)
        return await super().execute_query_dict(query, values)

    async def close(self) -> None:
        if self.inline is not None:
            self.inline.close()
        for reader in self.readers:
            await reader.close()
        await super().close()

    def _check_loop(self) -> bool:
        # A reader (or the inline connection) made on another event loop makes the whole
        # client stale. Tortoise asks on every `connections.get` (a dozen a lookup): the
        # running loop is looked up once, not once a reader.
        if not super()._check_loop():
            return False
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            return True
        if self.inline is not None and self.inline.loop not in (None, current):
            return False
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
