"""Test settings are put in the environment before the app is imported."""

from __future__ import annotations

import os
import tempfile

_DATA_DIR = tempfile.mkdtemp(prefix="egomruk-test-")
os.environ.update(
    {
        "ENV": "development",
        "DATA_DIR": _DATA_DIR,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "RATE_LIMIT_PER_MINUTE": "100000",
        "SIGN_IN_RATE_LIMIT_PER_MINUTE": "100000",
        "APPEALS_PER_DAY": "100000",  # the daily cap has tests of its own
        "LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)


def _daemon_sqlite_threads() -> None:
    """Tests drive the ORM from their own event loop beside the app's, and Tortoise 1.x then
    replaces (without closing) a connection bound to the other loop. Its aiosqlite worker
    thread would keep pytest from exiting after a green run. The server itself closes its
    connections (web/db.py) and exits on SIGTERM within seconds; this affects tests only.
    """
    import threading

    import aiosqlite.core

    class DaemonThread(threading.Thread):
        def __init__(self, *args, **kwargs):
            kwargs["daemon"] = True
            super().__init__(*args, **kwargs)

    aiosqlite.core.Thread = DaemonThread


_daemon_sqlite_threads()
