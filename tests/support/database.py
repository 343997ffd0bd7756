"""Which database a test run uses.

`TEST_DATABASE=sqlite` (default) uses a file under a temporary DATA_DIR.
`TEST_DATABASE=postgres` creates a throw-away database on the server named by
`TEST_POSTGRES_URL` (default postgres://postgres@127.0.0.1:5432/postgres) and drops it
afterwards. Without a reachable server the run skips with a reason, except in CI
(CI=true), where that is a failure.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"


@dataclass
class TestDatabase:
    kind: str
    url: str | None  # None: the default SQLite file under DATA_DIR
    _admin_url: str | None = None
    _name: str | None = None

    def drop(self) -> None:
        if self.kind == "postgres" and self._name:
            # FORCE: a test may leave a pooled connection behind; the database goes anyway.
            sql = f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)'
            run_sync(_execute(self._admin_url, sql))


async def _execute(admin_url: str, sql: str, *args: object) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://"), timeout=5)
    try:
        await connection.execute(sql, *args)
    finally:
        await connection.close()


def run_sync(coroutine) -> None:
    """Run a coroutine to the end from sync code, even when an event loop is running in
    this thread (pytest-asyncio's session loop): on a thread of its own."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def provision_test_database() -> TestDatabase:
    kind = os.environ.get("TEST_DATABASE", "sqlite")
    if kind == "sqlite":
        return TestDatabase(kind="sqlite", url=None)
    if kind != "postgres":
        raise pytest.UsageError(f"TEST_DATABASE must be sqlite or postgres, not {kind!r}")
    return provision_postgres_database()


def provision_postgres_database() -> TestDatabase:
    """A fresh, empty PostgreSQL database (whatever TEST_DATABASE says), dropped by `drop()`.
    Tests of PostgreSQL-only behaviour (outages, the migrations lock) use it; without a
    reachable server they skip, except in CI."""
    admin_url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)
    name = f"egomruk_test_{uuid.uuid4().hex[:10]}"
    try:
        run_sync(_execute(admin_url, f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        reason = f"PostgreSQL is not reachable at {admin_url}: {exc}"
        if in_ci():
            pytest.exit(f"CI needs PostgreSQL: {reason}", returncode=3)
        pytest.skip(reason, allow_module_level=True)
    base = admin_url.rsplit("/", 1)[0]
    return TestDatabase(kind="postgres", url=f"{base}/{name}", _admin_url=admin_url, _name=name)


@contextmanager
def seeded_database_of_its_own(settings, name: str):
    """A database of its own (same engine as the run), migrated and seeded with the demo data,
    for tests that change demo rows (fuzzing renames bodies and closes letters): other tests
    keep the demo data as they expect it. Yields the settings that point at it."""
    from dataclasses import replace

    from web.devdata.demo_data import seed_demo_data
    from web.platform import db

    database = provision_test_database()
    url = database.url or f"sqlite://{settings.data_dir / f'{name}.sqlite3'}"
    own = replace(settings, database_url=url)

    async def prepare() -> None:
        await db.migrate(own)
        await db.init_db(own)
        try:
            await seed_demo_data(own)
        finally:
            await db.close_db()

    run_sync(prepare())
    try:
        yield own
    finally:
        database.drop()
