"""Database configuration and lifecycle (Tortoise ORM 1.x).

SQLite (WAL, busy timeout) is the embedded default; `DATABASE_URL=postgres://…` switches
to PostgreSQL. `TORTOISE_ORM` is what the `tortoise` CLI reads (see pyproject).
"""

from __future__ import annotations

import asyncio
from typing import Any

from tortoise import Tortoise
from tortoise.connection import connections
from tortoise.context import get_current_context

from models import MODEL_MODULES
from web.platform import portal_time
from web.settings import Settings, get_settings

TIMEZONE = portal_time.TIME_ZONE_NAME
_OPENED = "_egomruk_opened_connections"


def tortoise_config(settings: Settings) -> dict[str, Any]:
    if settings.uses_sqlite:
        file_path = settings.database_url.removeprefix("sqlite://")
        connection: Any = {
            "engine": "tortoise.backends.sqlite",
            "credentials": {
                "file_path": file_path,
                "journal_mode": "WAL",
                "foreign_keys": "ON",
                # Tortoise sets no busy timeout; without one a second writer fails at once.
                "busy_timeout": 5000,
                "synchronous": "NORMAL",
            },
        }
    else:
        connection = settings.database_url
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
