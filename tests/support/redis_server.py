"""A throw-away redis-server of the test's own on a free loopback port (never the shared one),
so a test may count its commands or stop it. Skips without the binary, except in CI.
(`tests.support.faults.RedisServer` when a test also kills and restarts it.)"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.faults import RedisServer


@contextmanager
def redis_server() -> Iterator[str]:
    """Start redis-server on a free port; yield its URL; stop it afterwards."""
    server = RedisServer()
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
