"""Database configuration and lifecycle (Tortoise ORM 1.x).

SQLite (WAL, busy timeout, read connections and a statement time limit: see
`web/platform/sqlite.py`) is the embedded default; `DATABASE_URL=postgres://…` switches to
PostgreSQL. `TORTOISE_ORM` is what the `tortoise` CLI reads (see pyproject).
"""

from __future__ import annotations

import asyncio
import fcntl
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import connections
from tortoise.context import get_current_context

from models import MODEL_MODULES
from web.platform import portal_time, sqlite
from web.settings import Settings, get_settings

TIMEZONE = portal_time.TIME_ZONE_NAME
CONNECT_TIMEOUT_SECONDS = 5
_OPENED = "_egomruk_opened_connections"


async def _release_without_reset_all(connection: Any) -> None:
    """asyncpg's pool `reset` hook: replaces its `RESET ALL; CLOSE ALL; UNLISTEN *; SELECT
    pg_advisory_unlock_all()`, one extra round trip per query since Tortoise takes a pool
    connection per query (issue 12). Safe because the app leaves no session state on a
    pooled connection: no SET (only SET LOCAL, which ends with its transaction), no LISTEN,
    no cursors or temporary tables, and its one session advisory lock (`migration_lock`)
    lives on a connection of its own. asyncpg still rolls back an open transaction and
    drops listeners before calling this (`Connection._reset`)."""


def tortoise_config(settings: Settings) -> dict[str, Any]:
    if settings.uses_sqlite:
        file_path = settings.database_url.removeprefix("sqlite://")
        connection: Any = {
            "engine": "web.platform.sqlite",
            "credentials": {
                "file_path": file_path,
                # A slow statement neither holds the other requests' reads nor runs for ever.
                "readers": sqlite.READERS,
                "statement_timeout": settings.database_query_timeout_seconds,
                "journal_mode": "WAL",
                "foreign_keys": "ON",
                # Tortoise sets no busy timeout; without one a second writer fails at once.
                "busy_timeout": 5000,
                "synchronous": "NORMAL",
            },
        }
    else:
        connection = expand_db_url(settings.database_url)
        # Nothing may hang on a database that went silent: give up connecting after a few
        # seconds and on a query after DATABASE_QUERY_TIMEOUT_SECONDS (the page then answers
        # 503, not never).
        connection["credentials"].setdefault("timeout", CONNECT_TIMEOUT_SECONDS)
        connection["credentials"].setdefault(
            "command_timeout", settings.database_query_timeout_seconds
        )
        connection["credentials"]["reset"] = _release_without_reset_all
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": TIMEZONE,
    }


def __getattr__(name: str) -> Any:
    # The `tortoise` CLI imports `web.platform.db.TORTOISE_ORM`: built lazily from the environment.
    if name == "TORTOISE_ORM":
        return tortoise_config(get_settings())
    raise AttributeError(name)


async def init_db(settings: Settings) -> None:
    if settings.uses_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    _track_connections(get_current_context().connections)


# pg_advisory_lock key: any fixed 64-bit number no other program on the database uses.
MIGRATION_LOCK_KEY = 0x65_67_6F_6D_72_75_6B  # "egomruk"


@asynccontextmanager
async def migration_lock(settings: Settings) -> AsyncIterator[None]:
    """Hold the database-wide migration lock: instances starting together take turns, and
    the ones after the first find nothing left to do.

    PostgreSQL: a session advisory lock on a dedicated connection (released when that
    connection ends, even if this process dies). SQLite: an exclusive `flock` on a file
    beside the database (released by the kernel when the process ends).
    """
    if settings.uses_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        lock_path = settings.database_url.removeprefix("sqlite://") + ".migrate-lock"
        with open(lock_path, "a+b") as handle:
            await asyncio.to_thread(fcntl.flock, handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return
    import asyncpg

    url = "postgresql://" + settings.database_url.removeprefix("postgres://")
    connection = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        try:
            yield
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    finally:
        await connection.close()


async def migrate(settings: Settings) -> None:
    """Apply every pending migration (what `make run` and the tests do on start)."""
    from tortoise.migrations.api.migrate import migrate as run_migrations

    if settings.uses_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        await run_migrations(config=tortoise_config(settings))
    finally:
        # Close in the same task: Tortoise's context lives in a context variable, and an
        # open SQLite connection thread would keep the process from exiting.
        await Tortoise.close_connections()


async def close_db() -> None:
    """Close every connection this process opened, then release the ORM context."""
    context = get_current_context()
    if context is not None and context.inited:
        await close_connections_of_this_loop(context.connections)
    # Closing through the context also releases the global fallback for the next init.
    await Tortoise.close_connections()


async def close_connections_of_this_loop(handler: Any) -> None:
    """Close the tracked connections bound to the running event loop.

    A connection made on another loop (tests drive the ORM from their own loop too) can
    only be closed from that loop, so it stays tracked for the caller there.
    """
    opened: list[Any] = getattr(handler, _OPENED, [])
    mine = [connection for connection in opened if connection._check_loop()]
    await asyncio.gather(*(connection.close() for connection in mine), return_exceptions=True)
    opened[:] = [connection for connection in opened if connection not in mine]


def _track_connections(handler: Any) -> None:
    """Remember every connection the handler creates, in whichever task.

    Tortoise 1.x keeps connections in a context variable: a task that never set its own
    storage (a request task) shares the variable's default dict, and `close_connections`
    only sees the caller's copy. Untracked, such connections stay open and their SQLite
    worker threads keep the process from exiting on shutdown.
    """
    if hasattr(handler, _OPENED):
        return
    opened: list[Any] = []
    create = handler._create_connection

    def create_and_track(alias: str) -> Any:
        connection = create(alias)
        opened.append(connection)
        return connection

    setattr(handler, _OPENED, opened)
    handler._create_connection = create_and_track


async def ping() -> bool:
    connection = connections.get("default")
    await connection.execute_query("SELECT 1")
    return True


# --------------------------------------------------------------------------- engine errors

# PostgreSQL answers these classes when the connection, not the statement, failed: the
# outcome of a COMMIT is then unknown (08 connection, 57 shutdown, 58 I/O at the server).
_OUTCOME_UNKNOWN_CLASSES = ("08", "57", "58")


def _chain(exc: BaseException | None) -> list[BaseException]:
    """`exc` and what caused it (Tortoise re-raises the engine's error inside `except`)."""
    seen: list[BaseException] = []
    while exc is not None and all(exc is not other for other in seen):
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def is_disk_full(exc: BaseException | None) -> bool:
    """The database has no room to write: SQLite's SQLITE_FULL ("database or disk is
    full", also past `max_page_count`) or PostgreSQL's SQLSTATE 53100 (disk_full)."""
    import asyncpg.exceptions

    for error in _chain(exc):
        sqlite_code = getattr(error, "sqlite_errorcode", None)
        if isinstance(error, sqlite3.Error) and (sqlite_code or 0) & 0xFF == sqlite3.SQLITE_FULL:
            return True
        if isinstance(error, asyncpg.exceptions.DiskFullError):
            return True
    return False


def commit_refused(exc: BaseException | None) -> bool:
    """The database answered a COMMIT with an error, so the transaction did not commit.

    False when the answer may have been lost (connection closed, timed out, cancelled):
    the rows may then have committed, and files they name must stay."""
    import asyncpg

    for error in _chain(exc):
        if isinstance(error, sqlite3.Error):  # in-process: an error is the whole answer
            return True
        if isinstance(error, asyncpg.PostgresError):
            return not str(error.sqlstate or "").startswith(_OUTCOME_UNKNOWN_CLASSES)
    return False
